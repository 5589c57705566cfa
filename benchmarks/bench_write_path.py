"""Where the time of a durable session write goes: the floor, the CPU, a file made beforehand.

    python benchmarks/bench_write_path.py [--repeat 300]

The plan's target for ``start`` and ``complete_phase`` is a median within 1.5 times the
floor of one durable write (``write_floor_target`` in specs/thresholds.json; the perf
gate prints it as ``TARGET`` lines). This splits both calls into what that floor covers
and what it does not, on scratch projects, taking one floor sample before every timed
call so that load hits all figures alike:

- ``floor``: the gate's baseline (``_gate.durable_write_samples``): a new temp file,
  write, fsync, rename, fsync of the folder;
- ``floor into an existing file``: the same, into an empty file made before the timing
  (what a store that made its files off the hot path would pay);
- ``start`` and ``complete_phase`` as the gate times them, on the durable file store;
- the same calls on a store that does not fsync: what each call costs besides its fsyncs.

Prints medians in milliseconds and each one's ratio to the floor's median. It checks
nothing: these are figures for deciding what the target should mean on a given disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _gate import durable_write_samples, timed_ms, write_durably
from pos_engine import FileSessionStore, WorkflowEngine
from pos_engine.testing.drive import example_evidence

WORKFLOW = "test_generation_v3"  # what the perf gate starts and completes


def existing_file_write(folder: Path, size: int = 4096) -> Callable[[], None]:
    """The floor's durable write, into the next of the empty files made beforehand."""
    data = os.urandom(size)
    target = folder / "floor.json"
    made = iter(sorted(folder.glob("made-*")))

    def write() -> None:
        path = next(made)
        write_durably(os.open(path, os.O_WRONLY), path, data, target)

    return write


def engine_on(project: Path, *, durable: bool) -> WorkflowEngine:
    """The real engine on ``project``'s file store, fsyncing or not."""
    project.mkdir()
    store = FileSessionStore.from_project(project, durable=durable)
    engine = WorkflowEngine.for_project(project, store=store)
    engine.state_manager.list_sessions()  # warm the listing, as a running server has it
    return engine


def start(engine: WorkflowEngine, started: list[dict[str, Any]]) -> None:
    """Start a session of ``WORKFLOW``, keeping its answer for ``complete_phase``."""
    started.append(engine.start_workflow(WORKFLOW, "src/x.py"))


def measure(repeat: int) -> dict[str, list[float]]:
    """Every figure, as lists of milliseconds, each sample taken after a floor sample."""
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-write-path-") as scratch:
        root = Path(scratch)
        floor_dir, existing_dir = root / "floor", root / "existing"
        floor_dir.mkdir()
        existing_dir.mkdir()
        for n in range(repeat):
            (existing_dir / f"made-{n:06d}").touch()
        engines = {True: engine_on(root / "durable", durable=True)}
        engines[False] = engine_on(root / "no-fsync", durable=False)
        os.sync()  # nothing made above is flushed during the timed calls

        def beside_floor(name: str, call: Callable[[], Any]) -> None:
            figures.setdefault("floor", []).extend(durable_write_samples(floor_dir, 1))
            figures.setdefault(name, []).extend(timed_ms(call, 1))

        write_existing = existing_file_write(existing_dir)
        started: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for _ in range(repeat):
            beside_floor("floor into an existing file", write_existing)
            for durable, engine in engines.items():
                label = "durable" if durable else "no fsync"
                beside_floor(f"start, {label}", partial(start, engine, started[durable]))
        for index in range(repeat):
            for durable, engine in engines.items():
                session = started[durable][index]
                evidence = example_evidence(session)
                label = "durable" if durable else "no fsync"
                complete = partial(engine.complete_phase, session["session_id"], 1, evidence)
                beside_floor(f"complete_phase, {label}", complete)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="calls of each (default: 300)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 500:  # the store keeps the last 512 records in memory
        parser.error("--repeat must be between 1 and 500")
    figures = measure(args.repeat)
    floor = statistics.median(figures["floor"])
    print(f"durable write path ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})")
    print(f"{'figure':<30} {'calls':>6} {'median ms':>10} {'x floor':>8}")
    for name, samples in figures.items():
        median = statistics.median(samples)
        print(f"{name:<30} {len(samples):>6} {median:>10.3f} {median / floor:>8.2f}")
    cpu = statistics.median(figures["complete_phase, no fsync"])
    print(
        f"1.5x the floor leaves {0.5 * floor:.3f} ms beside the write; complete_phase "
        f"without fsync takes {cpu:.3f} ms, with its own file creation and rename"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
