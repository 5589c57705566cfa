"""The side-by-side benchmark (benchmarks/bench_praxis.py) keeps working.

Its own logic runs here: skipping without a praxis-os checkout, refusing a folder that
is not one, the interleaving, the table, and seeding our store. The comparison itself
needs a praxis-os checkout; with ``PRAXIS_OS_CHECKOUT`` set (and praxis-os's
``mistletoe`` installed) one short run goes end to end. Nothing here is timed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pos_engine import FileSessionStore, WorkflowEngine

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


def _load(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (benchmarks/ is not a package; its modules import each other)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("bench_praxis")
figures = _load("_figures")
praxis = _load("_praxis")

HINT = "pass --praxis PATH (or set PRAXIS_OS_CHECKOUT) to the root of a praxis-os checkout"


@pytest.fixture(autouse=True)
def _no_checkout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(bench.ENV_VAR, raising=False)


def test_without_a_checkout_the_benchmark_says_it_skipped_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench.main([]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (
        f"bench_praxis: skipped: no praxis-os checkout given; {HINT} to compare.\n",
        "",
    )


def test_a_checkout_path_that_does_not_exist_is_skipped_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "praxis-os"
    assert bench.main(["--praxis", str(missing)]) == 0
    assert capsys.readouterr().out == (
        f"bench_praxis: skipped: praxis-os checkout {str(missing)!r} not found; {HINT} to compare.\n"
    )


def test_the_environment_variable_names_the_checkout_and_json_skips_are_machine_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "elsewhere"
    monkeypatch.setenv(bench.ENV_VAR, str(missing))
    assert bench.main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "skipped": f"praxis-os checkout {str(missing)!r} not found",
        "hint": HINT,
    }


def test_a_folder_that_is_not_a_praxis_checkout_is_refused_naming_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mcp_server").mkdir()
    (tmp_path / "mcp_server" / "workflow_engine.py").write_text("", encoding="utf-8")
    assert bench.main(["--praxis", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"bench_praxis: error: {str(tmp_path)!r} is not a praxis-os checkout: "
        "mcp_server/state_manager.py, mcp_server/server/tools/workflow_tools/dispatcher.py, "
        "universal/workflows/spec_creation_v1/metadata.json missing. Pass the root of a "
        "praxis-os clone (the folder holding mcp_server/ and universal/).\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeat", "0"], "--repeat must be at least 1, got 0"),
        (
            ["--repeat", "20", "--sessions", "30"],
            "--sessions must be at least 43 with --repeat 20 "
            "(the earlier rounds leave that many sessions), got 30",
        ),
    ],
)
def test_sizes_too_small_to_measure_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(args) == 2
    assert capsys.readouterr().err == f"bench_praxis: error: {message}\n"


def test_quick_sizes_are_the_defaults_and_explicit_sizes_win() -> None:
    args = bench.parse_args(["--quick", "--sessions", "500", "--via", "mcp"])
    assert bench.config_of(args) == {
        "via": "mcp",
        "sessions": 500,
        "repeat": 20,
        "repeat_at_sessions": 5,
    }


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(42.4, "42x slower"), (2.53, "2.5x slower"), (1.0, "1.0x slower"), (0.5, "2.0x faster")],
)
def test_the_ratio_is_said_in_words_slower_or_faster(ratio: float, text: str) -> None:
    assert figures.ratio_text(ratio) == text


def _stats(p50: float, p95: float) -> Any:
    return figures.Stats(p50_ms=p50, p95_ms=p95, samples=200, answer_bytes=1000)


def test_the_table_shows_both_sides_p50_p95_and_the_ratio() -> None:
    rows = [
        figures.Row("list_workflows", _stats(2.9, 3.25), _stats(0.0612, 0.08)),
        figures.Row("start @ 10,000 sessions", _stats(2.6, 4.0), _stats(495.2, 612.0)),
    ]
    assert figures.format_table(rows).splitlines() == [
        "| action                  | pos_workflow p50 |     p95 | praxis-os p50 |     p95 | ratio (p50) |",
        "|-------------------------|-----------------:|--------:|--------------:|--------:|-------------|",
        "| list_workflows          |          2.90 ms | 3.25 ms |       0.06 ms | 0.08 ms | 47x slower  |",
        "| start @ 10,000 sessions |          2.60 ms | 4.00 ms |        495 ms |  612 ms | 190x faster |",
    ]


def test_the_json_report_gives_each_side_its_figures_and_the_ratio() -> None:
    row = figures.Row("get_state", _stats(0.3, 0.4), _stats(0.1, 0.2))
    report = json.loads(figures.report_json({"config": {"via": "dispatch"}, "rows": [row]}))
    assert report == {
        "config": {"via": "dispatch"},
        "rows": [
            {
                "action": "get_state",
                "pos_workflow": {
                    "p50_ms": 0.3,
                    "p95_ms": 0.4,
                    "samples": 200,
                    "answer_bytes": 1000,
                },
                "praxis-os": {"p50_ms": 0.1, "p95_ms": 0.2, "samples": 200, "answer_bytes": 1000},
                "ratio_p50": pytest.approx(3.0),
                "ratio_text": "3.0x slower",
            }
        ],
    }


@pytest.mark.anyio
async def test_interleaving_alternates_the_sides_and_rotates_who_goes_first() -> None:
    order: list[str] = []

    def side(name: str) -> Any:
        async def call() -> dict[str, Any]:
            order.append(name)
            return {"status": "success", "n": len(order)}

        return call

    stats, answers = await bench.interleave({"a": side("a"), "b": side("b")}, repeat=3, warmup=1)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert {name: s.samples for name, s in stats.items()} == {"a": 3, "b": 3}
    assert answers == {"a": {"status": "success", "n": 8}, "b": {"status": "success", "n": 7}}


@pytest.mark.anyio
async def test_a_side_that_answers_an_error_stops_the_benchmark_with_its_answer() -> None:
    async def failing() -> dict[str, Any]:
        return {"status": "success", "checkpoint_passed": False, "errors": ["x missing"]}

    with pytest.raises(bench.BenchmarkError) as caught:
        await bench.interleave({"praxis-os": failing}, repeat=1)
    assert str(caught.value) == (
        'praxis-os answered {"status": "success", "checkpoint_passed": false, "errors": ["x missing"]}'
    )


def test_seeding_brings_our_store_to_the_requested_number_of_readable_sessions(
    tmp_path: Path,
) -> None:
    engine = WorkflowEngine.for_project(tmp_path, durable=False)
    first = engine.start_workflow(praxis.WORKFLOW, "src/read.py")["session_id"]
    bench.seed_ours(tmp_path, first, 25)
    store = FileSessionStore.from_project(tmp_path)
    summaries = store.list_summaries()
    assert len(summaries) == 25
    assert {store.load(s.session_id).workflow_type for s in summaries} == {praxis.WORKFLOW}
    assert len({s.target_file for s in summaries}) == 25


def test_praxis_evidence_gives_every_gate_field_a_value_of_its_type(tmp_path: Path) -> None:
    gate = tmp_path / ".praxis-os" / "workflows" / praxis.WORKFLOW / "phases" / "0"
    gate.mkdir(parents=True)
    (gate / "gate-definition.yaml").write_text(
        "checkpoint: {strict: true}\n"
        "evidence_schema:\n"
        "  created: {type: boolean, required: true}\n"
        "  count: {type: integer, required: true}\n"
        "  summary: {type: string}\n"
        "  files: {type: list}\n"
        "  mapping: {type: object}\n",
        encoding="utf-8",
    )
    assert praxis.praxis_evidence(tmp_path, 0) == {
        "created": True,
        "count": 1,
        "summary": "done",
        "files": ["done"],
        "mapping": {"done": True},
    }


def test_phase_content_is_chunked_by_section_like_praxis_vector_search(tmp_path: Path) -> None:
    phase_file = tmp_path / "phase.md"
    phase_file.write_text("# Phase 0\nintro\n## Goal\nMANDATORY: frame it\n", encoding="utf-8")
    chunks = praxis.phase_chunks(phase_file, 0)
    assert [(c["section_header"], c["content"], c["is_critical"]) for c in chunks] == [
        ("Phase 0", "# Phase 0\nintro", False),
        ("Goal", "## Goal\nMANDATORY: frame it", True),
    ]


CHECKOUT = os.environ.get("PRAXIS_OS_CHECKOUT")
TINY = ["--sessions", "30", "--repeat", "2", "--repeat-at-sessions", "2"]


@pytest.mark.skipif(
    not CHECKOUT or importlib.util.find_spec("mistletoe") is None,
    reason="needs PRAXIS_OS_CHECKOUT (a praxis-os checkout) and praxis-os's mistletoe",
)
def test_a_short_run_against_a_real_praxis_checkout_fills_every_row() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_praxis.py"), "--json", *TINY],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PRAXIS_OS_CHECKOUT": str(CHECKOUT)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["action"] for row in report["rows"]] == [
        "list_workflows",
        "get_phase",
        "get_task",
        "get_state",
        "complete_phase",
        "complete_phase, no fsync",
        "start @ 30 sessions",
        "start @ 30 sessions, no fsync",
        "list_sessions @ 30 sessions",
    ]
    assert all(
        row[side]["samples"] == 2 and row[side]["p50_ms"] > 0
        for row in report["rows"]
        for side in ("pos_workflow", "praxis-os")
    )
