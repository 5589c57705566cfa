"""Engine benchmark: latency of the core operations as sessions accumulate on disk.

    python benchmarks/bench_engine.py [--sizes 0 1000 10000] [--repeat 30] [--check]

For each size it seeds a scratch project with that many sessions, then times
start, get_current_phase, complete_phase, get_workflow_state and list_sessions
(warm: after one call that fills the cache; and right after a write, which forces
a rescan of the folder) on the durable file store, and prints median and p95 in
milliseconds. ``--check`` compares the figures named in
specs/thresholds.json (``engine_p95_ms``) and exits 1 when one is over.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pos_engine import FileSessionStore, WorkflowEngine
from pos_engine.testing.drive import example_evidence

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = (
    "start",
    "get_current_phase",
    "complete_phase",
    "get_workflow_state",
    "list_sessions",
    "list_sessions_after_write",
)


def seed(project: Path, count: int) -> None:
    """Put ``count`` sessions on disk quickly (no fsync) through the real engine."""
    engine = WorkflowEngine.for_project(
        project, store=FileSessionStore.from_project(project, durable=False)
    )
    for index in range(count):
        engine.start_workflow("test_generation_v3", f"src/module_{index}.py")


def percentile(samples: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def measure(call: Callable[[], Any], repeat: int) -> list[float]:
    """Time ``call`` ``repeat`` times; return milliseconds."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def bench_size(count: int, repeat: int) -> dict[str, dict[str, float]]:
    """Benchmark every operation with ``count`` sessions already on disk."""
    with tempfile.TemporaryDirectory(prefix="pos-bench-") as scratch:
        project = Path(scratch)
        seed(project, count)
        engine = WorkflowEngine.for_project(project)
        engine.state_manager.list_sessions()  # warm the listing cache, as a running server has it
        started: list[dict[str, Any]] = []
        samples = {
            "start": measure(
                lambda: started.append(engine.start_workflow("test_generation_v3", "src/x.py")),
                repeat,
            )
        }
        ids = iter(started)
        samples["get_current_phase"] = measure(
            lambda: engine.get_current_phase(started[0]["session_id"]), repeat
        )

        def complete() -> None:
            session = next(ids)
            engine.complete_phase(session["session_id"], 1, example_evidence(session))

        samples["complete_phase"] = measure(complete, repeat)
        samples["get_workflow_state"] = measure(
            lambda: engine.get_workflow_state(started[0]["session_id"]), repeat
        )
        samples["list_sessions"] = measure(engine.state_manager.list_sessions, repeat)
        # The worst warm case: another write just changed the folder, so the listing
        # must rescan it (it re-reads only the changed file).
        touched = started[0]["session_id"]
        after_write = []
        for _ in range(repeat):
            engine.store.update(touched, lambda session: session)
            after_write += measure(engine.state_manager.list_sessions, 1)
        samples["list_sessions_after_write"] = after_write
        return {
            op: {"median_ms": statistics.median(values), "p95_ms": percentile(values, 0.95)}
            for op, values in samples.items()
        }


def check(results: dict[int, dict[str, dict[str, float]]]) -> list[str]:
    """Compare p95 figures with ``engine_p95_ms`` of specs/thresholds.json; return failures.

    That section maps an operation to {sessions on disk: limit in ms}.
    """
    limits = json.loads((ROOT / "specs" / "thresholds.json").read_text())["engine_p95_ms"]
    failures = []
    for operation, by_size in limits.items():
        for size, limit in by_size.items():
            if int(size) not in results:
                continue
            value = results[int(size)][operation]["p95_ms"]
            verdict = "PASS" if value < limit else "FAIL"
            print(
                f"{verdict} {operation} p95 with {size} sessions: {value:.2f} ms (limit {limit} ms)"
            )
            if verdict == "FAIL":
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
    return 1 if args.check and check(results) else 0


if __name__ == "__main__":
    sys.exit(main())
