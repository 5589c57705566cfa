"""Figures of the side-by-side benchmark (bench_praxis.py) and how they are printed."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from _praxis import WORKFLOW
from pos_cutover import percentile

OURS, OURS_FAST, THEIRS = "pos_workflow", "pos_workflow, no fsync", "praxis-os"
VIA = {
    "dispatch": "in-process, each tool's dispatcher called directly",
    "mcp": "in-process, through the MCP SDK's client",
}


@dataclass(frozen=True)
class Stats:
    """One side's figures for one action."""

    p50_ms: float
    p95_ms: float
    samples: int
    answer_bytes: int

    @classmethod
    def of(cls, samples: Sequence[float], answer: Mapping[str, Any]) -> Stats:
        """Summarise ``samples`` (milliseconds) and the size of the last ``answer``."""
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"), default=str)
        return cls(
            p50_ms=statistics.median(samples),
            p95_ms=percentile(samples, 95),
            samples=len(samples),
            answer_bytes=len(text.encode("utf-8")),
        )


@dataclass(frozen=True)
class Row:
    """One line of the table: an action measured on both sides in the same rounds."""

    action: str
    ours: Stats
    praxis: Stats

    @property
    def ratio(self) -> float:
        """pos_workflow's p50 over praxis-os's: above 1 means pos_workflow is slower."""
        return self.ours.p50_ms / self.praxis.p50_ms


def ms_text(value: float) -> str:
    """Format milliseconds with about three significant digits."""
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def ratio_text(ratio: float) -> str:
    """Say how pos_workflow compares: ``'42x slower'``, ``'1.3x faster'``."""
    factor, word = (ratio, "slower") if ratio >= 1 else (1 / ratio, "faster")
    return f"{factor:.0f}x {word}" if factor >= 10 else f"{factor:.1f}x {word}"


def format_table(rows: Sequence[Row]) -> str:
    """Return the rows as an aligned Markdown table."""
    lines = [
        ["action", f"{OURS} p50", "p95", f"{THEIRS} p50", "p95", "ratio (p50)"],
        *(
            [
                row.action,
                ms_text(row.ours.p50_ms),
                ms_text(row.ours.p95_ms),
                ms_text(row.praxis.p50_ms),
                ms_text(row.praxis.p95_ms),
                ratio_text(row.ratio),
            ]
            for row in rows
        ),
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    right = {1, 2, 3, 4}

    def cells(line: list[str]) -> str:
        padded = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(("-" * (w + 1)) + (":" if i in right else "-") for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([cells(lines[0]), rule, *(cells(line) for line in lines[1:])])


def format_report(report: Mapping[str, Any]) -> str:
    """Return the table with the conditions it was measured under."""
    machine, config, praxis = report["machine"], report["config"], report["praxis_os"]
    rows: list[Row] = report["rows"]
    listing = next(row for row in rows if row.action.startswith("list_sessions"))
    listed = report["workflows_listed"]
    commit = f" (commit {praxis['commit']})" if praxis["commit"] else ""
    return "\n".join(
        [
            f"{OURS} vs {THEIRS}: {WORKFLOW}, {VIA[config['via']]}, calls interleaved",
            f"machine: {machine['cpus']} CPUs, load average {machine['load_before']:.2f} before "
            f"and {machine['load_after']:.2f} after, Python {machine['python']}",
            "",
            format_table(rows),
            "",
            f"- p50 and p95 of {config['repeat']} calls per side ({config['repeat_at_sessions']} "
            f"for the rows with {config['sessions']:,} sessions on disk), after "
            f"{config['warmup']} unmeasured call per side.",
            f"- {OURS} fsyncs every session write and {THEIRS} never does; the 'no fsync' rows "
            f"run {OURS} with durable=False, against the same {THEIRS} calls.",
            f"- {THEIRS} takes the phase content of start, get_phase and complete_phase from "
            "its RAG query cache, pre-filled: no vector search, so its figures for them are "
            "a lower bound.",
            f"- list_workflows lists {listed[OURS]} workflows on {OURS} and {listed[THEIRS]} on "
            f"{THEIRS}; list_sessions answers {listing.ours.answer_bytes / 1e6:.2f} MB on {OURS} "
            f"and {listing.praxis.answer_bytes / 1e6:.2f} MB on {THEIRS}.",
            f"- {THEIRS} checkout: {praxis['checkout']}{commit}; stood in for: "
            f"{', '.join(praxis['stand_ins'])} (see benchmarks/_praxis.py).",
        ]
    )


def report_json(report: Mapping[str, Any]) -> str:
    """Return the report as JSON, each row with both sides' figures and the ratio."""
    rows = [
        {
            "action": row.action,
            OURS: asdict(row.ours),
            THEIRS: asdict(row.praxis),
            "ratio_p50": row.ratio,
            "ratio_text": ratio_text(row.ratio),
        }
        for row in report["rows"]
    ]
    return json.dumps({**report, "rows": rows}, indent=2)
