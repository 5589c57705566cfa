"""Spec parsing benchmark: how long a tasks.md takes to become a plan.

    python benchmarks/bench_spec_parse.py [--tasks 500] [--repeat 30] [--check]

Builds a tasks.md of ``--tasks`` tasks (20 per phase) from the task bodies of the
example spec (docs/examples/specs/2025-10-22-aos-workflow-tool/tasks.md: priority,
estimate, dependencies, steps, acceptance criteria, a fenced validation block) and
times ``parse_spec_tasks`` on it, printing median and p95 in milliseconds.

It also times a file of the same size made of hostile lines (60 KB runs of spaces,
asterisks, brackets, backticks, ``Task 1.`` repeats) against that plain file: parsing
is linear when the two take about as long. ``--check`` compares the median with
``spec_parse.median_ms`` and the hostile/plain ratio with ``spec_parse.hostile_ratio``
of specs/thresholds.json and exits 1 when either is over. The median of many runs and
a ratio measured in the same run keep the gate steady on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from pos_engine import parse_spec_tasks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs/examples/specs/2025-10-22-aos-workflow-tool/tasks.md"
PER_PHASE = 20
HOSTILE_LINE = 60 * 1024


def _task_bodies() -> list[str]:
    """The example spec's task bodies (everything under each '### Task' heading)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    parts = re.split(r"^### Task \d+\.\d+: .*$", text, flags=re.M)[1:]
    return [part.split("\n---\n")[0].strip("\n") for part in parts]


def build_spec(tasks: int) -> str:
    """Return a tasks.md with ``tasks`` tasks, 20 per phase, each with a validation gate."""
    bodies = _task_bodies()
    lines = ["# Implementation Tasks: benchmark", ""]
    for index in range(tasks):
        phase, number = divmod(index, PER_PHASE)
        if number == 0:
            if index:
                lines += [
                    "**Validation Gate:**",
                    "- [ ] All tasks completed",
                    "- [ ] Tests pass",
                    "",
                ]
            lines += [
                f"## Phase {phase + 1}: Phase {phase + 1} (Days 1-2)",
                "",
                "**Objective:** Work.",
                "",
            ]
        body = bodies[index % len(bodies)]
        body = re.sub(r"Task \d+\.\d+", f"Task {phase + 1}.{max(1, number)}", body)
        lines += [
            f"### Task {phase + 1}.{number + 1}: Task number {index + 1}",
            body,
            "",
            "---",
            "",
        ]
    lines += ["**Validation Gate:**", "- [ ] All tasks completed", ""]
    return "\n".join(lines)


def build_hostile(size: int) -> str:
    """Return a one-task plan padded to ``size`` characters with 60 KB hostile lines."""
    shapes = [
        " " * HOSTILE_LINE + "x",
        "- [ ] **" + "*" * HOSTILE_LINE,
        "**" + "a" * HOSTILE_LINE + ":**",
        "[" + "PHASE_NAME " * (HOSTILE_LINE // 11),
        "Task 1." * (HOSTILE_LINE // 7),
        "- " * (HOSTILE_LINE // 2) + "[x]",
        "#" * 6 + " " * HOSTILE_LINE + "#",
    ]
    lines = ["## Phase 1: Hostile", "### Task 1.1: Survive", "- [ ] parsed"]
    total = 0
    index = 0
    while total < size:
        lines.append(shapes[index % len(shapes)])
        total += len(lines[-1]) + 1
        index += 1
    return "\n".join(lines) + "\n"


def timings(text: str, repeat: int) -> list[float]:
    """Parse ``text`` ``repeat`` times; return milliseconds."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        parse_spec_tasks(text)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> int:
    """Run the benchmark, print its figures and (with --check) the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--check", action="store_true", help="compare with specs/thresholds.json")
    args = parser.parse_args()
    spec = build_spec(args.tasks)
    parsed = parse_spec_tasks(spec)
    assert parsed.task_count == args.tasks, parsed.task_count
    plain = timings(spec, args.repeat)
    hostile_text = build_hostile(len(spec))
    hostile = timings(hostile_text, args.repeat)
    ratio = statistics.median(hostile) / statistics.median(plain)
    print(
        f"tasks.md of {args.tasks} tasks in {len(parsed.phases)} phases, {len(spec) / 1024:.0f} KiB: "
        f"median {statistics.median(plain):.2f} ms, p95 {percentile(plain, 0.95):.2f} ms "
        f"({args.repeat} runs)"
    )
    print(
        f"same size of 60 KB hostile lines, {len(hostile_text) / 1024:.0f} KiB: "
        f"median {statistics.median(hostile):.2f} ms, {ratio:.2f}x the plain file"
    )
    if not args.check:
        return 0
    limits = json.loads((ROOT / "specs" / "thresholds.json").read_text())["spec_parse"]
    failures = 0
    figures = [
        (
            f"median parse of {args.tasks} tasks",
            statistics.median(plain),
            limits["median_ms"],
            "ms",
        ),
        ("hostile/plain parse time", ratio, limits["hostile_ratio"], "x"),
    ]
    for name, value, limit, unit in figures:
        verdict = "PASS" if value < limit else "FAIL"
        failures += verdict == "FAIL"
        print(f"{verdict} {name}: {value:.2f} {unit} (limit {limit} {unit})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
