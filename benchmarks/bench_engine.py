"""Engine benchmark: latency of the core operations as sessions accumulate on disk.

    python benchmarks/bench_engine.py [--sizes 0 1000 10000] [--repeat 30] [--check]

For each size it seeds a scratch project with that many sessions, then times
start, get_current_phase (of a static workflow's session, and of a dynamic one whose
phases come from the example spec's tasks.md), complete_phase, get_workflow_state and
list_sessions (warm, and right after a write) on the durable file store, and prints median and
p95 in milliseconds, beside same-run baselines (a durable write, a bare stat scan of
the records, a read of one record) sampled between the timed calls. ``--check``
judges the figures named in specs/thresholds.json (``engine_p95_ms``) as
``_gate`` describes and exits 1 when one fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _gate import (
    THRESHOLDS,
    durable_write_samples,
    judge,
    record_read_samples,
    stat_scan_samples,
    timed_ms,
)
from pos_cutover import percentile
from pos_engine import FileSessionStore, WorkflowEngine
from pos_engine.testing.drive import example_evidence

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = (
    "start",
    "get_current_phase",
    "get_current_phase_dynamic",
    "complete_phase",
    "get_workflow_state",
    "list_sessions",
    "list_sessions_after_write",
)
SPEC = ROOT / "docs/examples/specs/2025-10-22-aos-workflow-tool"
"""The example spec a dynamic session runs (5 phases, 29 tasks)."""


def seed(project: Path, count: int) -> None:
    """Put ``count`` sessions on disk quickly (no fsync) through the real engine."""
    engine = WorkflowEngine.for_project(
        project, store=FileSessionStore.from_project(project, durable=False)
    )
    for index in range(count):
        engine.start_workflow("test_generation_v3", f"src/module_{index}.py")


def measure(call: Callable[[], Any], repeat: int) -> list[float]:
    """Time ``call`` ``repeat`` times; return milliseconds."""
    return timed_ms(call, repeat)


class Baselines:
    """Floors measured in the same run, one sample taken beside each timed call.

    Interleaving them with the figures means a burst of load slows both alike.
    """

    def __init__(self, project: Path) -> None:
        self.samples: dict[str, list[float]] = {name: [] for name in BASELINES}
        self._floor = project / ".bench-floor"
        self._floor.mkdir()
        self._records = FileSessionStore.project_state_dir(project)
        self._record: Path | None = None

    def take(self, name: str) -> None:
        """Take one sample of the baseline ``name``."""
        if name == "durable_write":
            self.samples[name] += durable_write_samples(self._floor, 1)
        elif name == "stat_scan":
            self.samples[name] += stat_scan_samples(self._records, 1)
        else:
            if self._record is None:
                self._record = next(self._records.glob("*.json"))
            self.samples[name] += record_read_samples(self._record, 1)

    def p95(self) -> dict[str, float]:
        """Each baseline's p95 in milliseconds."""
        return {name: percentile(v, 95) for name, v in self.samples.items() if v}

    def median(self) -> dict[str, float]:
        """Each baseline's median in milliseconds (the floor an operation's median is read by)."""
        return {name: statistics.median(v) for name, v in self.samples.items() if v}


BASELINES = ("durable_write", "stat_scan", "record_read")
BASELINE_OF = {
    "start": "durable_write",
    "complete_phase": "durable_write",
    "get_current_phase": "record_read",
    "get_current_phase_dynamic": "record_read",
    "get_workflow_state": "record_read",
    "list_sessions": "stat_scan",
    "list_sessions_after_write": "stat_scan",
}


def beside(baselines: Baselines, name: str, call: Callable[[], Any], repeat: int) -> list[float]:
    """Time ``call`` ``repeat`` times, taking one sample of a baseline before each."""
    samples = []
    for _ in range(repeat):
        baselines.take(name)
        samples += measure(call, 1)
    return samples


def bench_size(count: int, repeat: int) -> dict[str, dict[str, float]]:
    """Benchmark every operation with ``count`` sessions already on disk.

    Returns each operation's median and p95, and each baseline's p95 (``baseline``) and
    median (``baseline_median``).
    """
    with tempfile.TemporaryDirectory(prefix="pos-bench-") as scratch:
        project = Path(scratch)
        seed(project, count)
        os.sync()  # the seed writes without fsync: flush it now, not during the timed calls
        engine = WorkflowEngine.for_project(project)
        engine.state_manager.list_sessions()  # warm the listing, as a running server has it
        baselines = Baselines(project)
        started: list[dict[str, Any]] = []

        def timed(op: str, call: Callable[[], Any]) -> list[float]:
            return beside(baselines, BASELINE_OF[op], call, repeat)

        samples = {
            "start": timed(
                "start",
                lambda: started.append(engine.start_workflow("test_generation_v3", "src/x.py")),
            )
        }
        ids = iter(started)
        first = started[0]["session_id"]
        samples["get_current_phase"] = timed(
            "get_current_phase", lambda: engine.get_current_phase(first)
        )

        shutil.copytree(SPEC, project / "spec")
        dynamic = engine.start_workflow("spec_execution_v1", "spec")
        engine.complete_phase(dynamic["session_id"], 0, example_evidence(dynamic))
        samples["get_current_phase_dynamic"] = timed(
            "get_current_phase_dynamic", lambda: engine.get_current_phase(dynamic["session_id"])
        )

        def complete() -> None:
            session = next(ids)
            engine.complete_phase(session["session_id"], 1, example_evidence(session))

        samples["complete_phase"] = timed("complete_phase", complete)
        samples["get_workflow_state"] = timed(
            "get_workflow_state", lambda: engine.get_workflow_state(first)
        )
        samples["list_sessions"] = timed("list_sessions", engine.state_manager.list_sessions)
        # Right after another write: the listing must see it (the store's change log).
        after_write = []
        for _ in range(repeat):
            engine.store.update(first, lambda session: session)
            after_write += beside(baselines, "stat_scan", engine.state_manager.list_sessions, 1)
        samples["list_sessions_after_write"] = after_write
        figures = {
            op: {"median_ms": statistics.median(values), "p95_ms": percentile(values, 95)}
            for op, values in samples.items()
        }
        figures["baseline"] = baselines.p95()
        figures["baseline_median"] = baselines.median()
        return figures


def check(results: dict[int, dict[str, dict[str, float]]]) -> list[str]:
    """Judge p95 figures against ``engine_p95_ms`` of specs/thresholds.json; return failures.

    That section maps an operation to {sessions on disk: limit in ms}; the verdict
    (see ``_gate``) also weighs the operation's same-run baseline.
    """
    limits = THRESHOLDS["engine_p95_ms"]
    failures = []
    for operation, by_size in limits.items():
        for size, limit in by_size.items():
            if int(size) not in results:
                continue
            verdict = judge(
                f"{operation} p95 with {size} sessions",
                results[int(size)][operation]["p95_ms"],
                limit,
                section="engine",
                key=operation,
                baselines=results[int(size)]["baseline"],
            )
            print(verdict.line())
            if verdict.result == "FAIL":
                failures.append(f"{operation}@{size}")
    return failures


def main() -> int:
    """Run the benchmark and print a table (and the verdicts with --check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--check", action="store_true", help="compare with specs/thresholds.json")
    args = parser.parse_args()
    results = {}
    print(f"{'sessions':>8}  {'operation':<26} {'median ms':>10} {'p95 ms':>10}")
    for count in args.sizes:
        results[count] = bench_size(count, args.repeat)
        for op in OPERATIONS:
            figures = results[count][op]
            print(f"{count:>8}  {op:<26} {figures['median_ms']:>10.2f} {figures['p95_ms']:>10.2f}")
        medians = results[count]["baseline_median"]
        for name, p95 in results[count]["baseline"].items():
            print(f"{count:>8}  {'baseline ' + name:<26} {medians[name]:>10.2f} {p95:>10.2f}")
    for line in floor_targets(results):
        print(line)
    return 1 if args.check and check(results) else 0


def floor_targets(results: dict[int, dict[str, dict[str, float]]]) -> list[str]:
    """Say whether each write's median is within ``write_floor_target`` times the floor's.

    The plan's target for start and complete_phase; printed, never failing: the ratio
    depends on the machine's fsync as much as on our code.
    """
    lines = []
    for operation, target in THRESHOLDS["write_floor_target"].items():
        for count, figures in results.items():
            floor = figures["baseline_median"]["durable_write"]
            ratio = figures[operation]["median_ms"] / floor
            met = "met" if ratio <= target else "not met"
            lines.append(
                f"TARGET {operation} median with {count} sessions: {ratio:.2f}x durable_write "
                f"[{floor:.3f} ms here] (plan: at most {target}x): {met}"
            )
    return lines


if __name__ == "__main__":
    sys.exit(main())
