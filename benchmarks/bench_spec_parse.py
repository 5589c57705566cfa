"""Spec parsing benchmark: how long a tasks.md takes to become a plan.

    python benchmarks/bench_spec_parse.py [--tasks 500] [--repeat 30] [--check]

Builds a tasks.md of ``--tasks`` tasks (20 per phase) from the task bodies of the
example spec (docs/examples/specs/2025-10-22-aos-workflow-tool/tasks.md: priority,
estimate, dependencies, steps, acceptance criteria, a fenced validation block) and
times ``parse_spec_tasks`` on it: median and p95 in milliseconds of CPU time.

A slow or loaded machine slows everything alike, so the gate does not compare the
raw figure: each parse run is followed by a run of a fixed reference workload (a
Python loop of a million additions), and the parse median is expressed in units of a
machine where that loop takes ``spec_parse.reference_loop_ms`` (25 ms, a modern x86-64
core running CPython 3.11). ``--check`` reports it SLOW over ``spec_parse.median_ms``
(50) of specs/thresholds.json and fails it only over ``gate.margin`` times that.

It also times a file of the same size made of 60 KB hostile lines (runs of spaces,
asterisks, brackets, backticks, ``Task 1.`` repeats) against the plain file: parsing is
linear when the two take about as long; ``--check`` fails when the hostile file takes
more than ``spec_parse.hostile_ratio`` times the plain one.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _gate import Verdict
from pos_cutover import percentile
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


def reference_loop() -> None:
    """The fixed reference workload: a Python loop of a million additions."""
    total = 0
    for number in range(1_000_000):
        total += number


def cpu_ms(call: Any) -> float:
    """CPU time of ``call()`` in milliseconds (waiting for a busy core is not counted)."""
    began = time.process_time()
    call()
    return (time.process_time() - began) * 1000


def timings(text: str, repeat: int) -> tuple[list[float], list[float]]:
    """Parse ``text`` ``repeat`` times, each followed by the reference loop; return both."""
    parse, loop = [], []
    for _ in range(repeat):
        parse.append(cpu_ms(lambda: parse_spec_tasks(text)))
        loop.append(cpu_ms(reference_loop))
    return parse, loop


def main() -> int:
    """Run the benchmark, print its figures and (with --check) the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--check", action="store_true", help="compare with specs/thresholds.json")
    args = parser.parse_args()
    limits = json.loads((ROOT / "specs" / "thresholds.json").read_text())["spec_parse"]
    spec = build_spec(args.tasks)
    parsed = parse_spec_tasks(spec)
    if parsed.task_count != args.tasks:  # pragma: no cover - the generator is ours
        raise SystemExit(f"the generated spec parsed to {parsed.task_count} tasks")
    plain, loop = timings(spec, args.repeat)
    hostile, _ = timings(build_hostile(len(spec)), max(5, args.repeat // 3))
    median, loop_ms = statistics.median(plain), statistics.median(loop)
    normalised = median * limits["reference_loop_ms"] / loop_ms
    ratio = statistics.median(hostile) / median
    print(
        f"tasks.md of {args.tasks} tasks in {len(parsed.phases)} phases, {len(spec) / 1024:.0f} "
        f"KiB: median {median:.1f} ms, p95 {percentile(plain, 95):.1f} ms CPU "
        f"({args.repeat} runs)"
    )
    print(
        f"reference loop: median {loop_ms:.1f} ms; the parse on a machine where it takes "
        f"{limits['reference_loop_ms']} ms: {normalised:.1f} ms"
    )
    print(
        f"same size of 60 KB hostile lines: median {statistics.median(hostile):.1f} ms, "
        f"{ratio:.2f}x the plain file"
    )
    if not args.check:
        return 0
    # The normalised median is already a ratio to a same-run baseline (the reference
    # loop): it gets the gate's margin. The hostile ratio guards linear time: no margin.
    parse = Verdict(
        f"normalised median parse of {args.tasks} tasks", normalised, limits["median_ms"]
    )
    print(parse.line())
    hostile_verdict = "PASS" if ratio < limits["hostile_ratio"] else "FAIL"
    print(
        f"{hostile_verdict} hostile/plain parse time: {ratio:.2f} x "
        f"(limit {limits['hostile_ratio']} x)"
    )
    return 1 if parse.result == "FAIL" or hostile_verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
