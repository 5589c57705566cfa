"""Store benchmark: the file store next to PostgreSQL as sessions pile up.

    python benchmarks/bench_store.py [--sizes 10000 1000000] [--stores file postgresql]
                                     [--file-max 100000] [--postgres-url URL]
                                     [--repeat 200] [--check]

For each size and store it seeds that many sessions (the file store through
``import_session``; PostgreSQL with COPY, the only way to load a million rows in
minutes), then drives the real engine over the store and prints p50 and p95 in
milliseconds of:

- ``start``, ``complete_phase`` (a passing checkpoint), ``get_state``
  (``get_workflow_state`` of a random seeded session);
- ``list_page``: the first page of 50 (``SessionStore.list_page``, what paged
  ``list_sessions`` serves), ``list_page_deep`` (a page from the middle, through a
  cursor), ``list_page_status`` (the first page of the failed sessions), and
  ``list_page_after_write`` (the first page right after another session changed).

Without ``--postgres-url`` it starts a throwaway, durable (fsync on) PostgreSQL from
Debian's binaries. ``--file-max`` skips the file store above that size (a million
files takes a quarter of an hour to seed and gigabytes of inodes). ``--check``
compares the figures named in ``store_p95_ms`` of specs/thresholds.json and exits 1
when one is over.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The script's folder is on sys.path: share the timing helpers of the engine benchmark.
from bench_engine import measure
from pos_cutover import percentile
from pos_engine import FileSessionStore, Session, SessionStore, WorkflowEngine
from pos_engine._paging import encode_cursor
from pos_engine.testing.drive import example_evidence

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = "test_generation_v3"
OPERATIONS = (
    "start",
    "complete_phase",
    "get_state",
    "list_page",
    "list_page_deep",
    "list_page_status",
    "list_page_after_write",
)
# Seeded sessions: mostly finished, as in a long-lived deployment.
STATUSES = ["completed"] * 12 + ["active"] * 5 + ["paused"] * 2 + ["failed"]


def template(project: Path) -> dict[str, Any]:
    """A real session record, as the engine writes it after a start (its JSON data)."""
    with tempfile.TemporaryDirectory(prefix="pos-bench-template-") as scratch:
        engine = WorkflowEngine.for_project(
            project, store=FileSessionStore(Path(scratch), durable=False)
        )
        started = engine.start_workflow(WORKFLOW, "src/module.py")
        return engine.store.load(started["session_id"]).model_dump(mode="json")


def seeded(base: dict[str, Any], count: int) -> Iterator[dict[str, Any]]:
    """``count`` distinct session records shaped like ``base``, one second apart."""
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    for index in range(count):
        stamp = (epoch + timedelta(seconds=index)).isoformat(timespec="microseconds")
        record = dict(base)
        record.update(
            session_id=f"{WORKFLOW}_module_{index}_py_{index:08x}",
            target_file=f"src/module_{index}.py",
            status=STATUSES[index % len(STATUSES)],
            created_at=stamp,
            updated_at=stamp,
            version=1,
        )
        yield record


def seed_file(store: FileSessionStore, records: Iterator[dict[str, Any]]) -> None:
    for record in records:
        store.import_session(Session.model_validate(record))


def seed_postgres(url: str, records: Iterator[dict[str, Any]]) -> None:
    """COPY the records into the sessions table, then ANALYZE and VACUUM it."""
    import psycopg  # noqa: PLC0415 - only when PostgreSQL is benchmarked

    columns = (
        "session_id, version, status, workflow_type, target_file, current_phase, "
        "total_phases, created_at, updated_at, document"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor().copy(f"COPY pos_workflow_sessions ({columns}) FROM STDIN") as copy:
            for r in records:
                copy.write_row(
                    (
                        r["session_id"],
                        1,
                        r["status"],
                        r["workflow_type"],
                        r["target_file"],
                        r["current_phase"],
                        r["total_phases"],
                        r["created_at"],
                        r["updated_at"],
                        json.dumps(r, separators=(",", ":")),
                    )
                )
        conn.execute("VACUUM ANALYZE pos_workflow_sessions")


def bench(store: SessionStore, project: Path, count: int, repeat: int) -> dict[str, list[float]]:
    """Time every operation on a store that holds ``count`` seeded sessions."""
    engine = WorkflowEngine.for_project(project, store=store)
    store.list_page()  # warm up, as a running server is
    started: list[dict[str, Any]] = []
    samples = {
        "start": measure(
            lambda: started.append(engine.start_workflow(WORKFLOW, "src/bench.py")), repeat
        )
    }
    pending = iter(started)

    def complete() -> None:
        session = next(pending)
        engine.complete_phase(
            session["session_id"], session["current_phase"], example_evidence(session)
        )

    samples["complete_phase"] = measure(complete, repeat)
    rng = random.Random(7)
    seeded_ids = [f"{WORKFLOW}_module_{i}_py_{i:08x}" for i in range(count)]
    samples["get_state"] = measure(
        lambda: engine.get_workflow_state(rng.choice(seeded_ids)), repeat
    )
    samples["list_page"] = measure(lambda: store.list_page(limit=50), repeat)
    # The cursor of the page that ends halfway through the seeded sessions.
    middle = f"{WORKFLOW}_module_{count // 2}_py_{count // 2:08x}"
    cursor = _cursor_at(store, middle) if count else None
    samples["list_page_deep"] = measure(lambda: store.list_page(limit=50, cursor=cursor), repeat)
    samples["list_page_status"] = measure(lambda: store.list_page("failed", limit=50), repeat)
    touched = started[0]["session_id"]
    after_write: list[float] = []
    for _ in range(repeat):
        store.update(touched, lambda session: session)
        after_write += measure(lambda: store.list_page(limit=50), 1)
    samples["list_page_after_write"] = after_write
    return samples


def _cursor_at(store: SessionStore, session_id: str) -> str:
    return encode_cursor(store.load(session_id).summary())


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[Callable[[str], str]]:
    """Yield a function that returns the URL of a new, empty database."""
    from pos_store_postgres.testing import TemporaryPostgres  # noqa: PLC0415 - optional

    if url is not None:
        yield lambda name: url
        return
    settings = {"shared_buffers": "512MB", "max_wal_size": "4GB", "checkpoint_timeout": "30min"}
    with TemporaryPostgres(durable=True, settings=settings) as server:
        yield server.create_database


def run(args: argparse.Namespace) -> dict[tuple[str, int], dict[str, dict[str, float]]]:
    results: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    print(f"{'store':<11} {'sessions':>9}  {'operation':<22} {'p50 ms':>9} {'p95 ms':>9}")
    with (
        tempfile.TemporaryDirectory(prefix="pos-bench-") as scratch,
        postgres(args.postgres_url) as new_database,
    ):
        project = Path(scratch) / "project"
        project.mkdir()
        base = template(project)
        for count in args.sizes:
            for kind in args.stores:
                if kind == "file" and count > args.file_max:
                    print(f"{kind:<11} {count:>9}  skipped: over --file-max {args.file_max}")
                    continue
                began = time.perf_counter()
                if kind == "file":
                    folder = Path(scratch) / f"files-{count}"
                    seed_file(FileSessionStore(folder, durable=False), seeded(base, count))
                    store: SessionStore = FileSessionStore(folder)  # durable, as a server runs it
                else:
                    from pos_store_postgres import PostgresSessionStore  # noqa: PLC0415

                    url = new_database(f"bench_{count}")
                    store = PostgresSessionStore.from_url(url)
                    store.migrate()
                    seed_postgres(url, seeded(base, count))
                seeding = time.perf_counter() - began
                print(f"{kind:<11} {count:>9}  (seeded in {seeding:.1f} s)")
                samples = bench(store, project, count, args.repeat)
                store.close()
                figures = {
                    op: {"p50_ms": statistics.median(v), "p95_ms": percentile(v, 95)}
                    for op, v in samples.items()
                }
                results[(kind, count)] = figures
                for op in OPERATIONS:
                    f = figures[op]
                    print(
                        f"{kind:<11} {count:>9}  {op:<22} {f['p50_ms']:>9.2f} {f['p95_ms']:>9.2f}"
                    )
    return results


def check(results: dict[tuple[str, int], dict[str, dict[str, float]]]) -> list[str]:
    """Compare p95 figures with ``store_p95_ms`` of specs/thresholds.json; return failures.

    That section maps a store kind to {operation: {sessions: limit in ms}}.
    """
    limits = json.loads((ROOT / "specs" / "thresholds.json").read_text())["store_p95_ms"]
    failures = []
    for kind, operations in limits.items():
        if kind.startswith("$"):
            continue
        for operation, by_size in operations.items():
            for size, limit in by_size.items():
                if (kind, int(size)) not in results:
                    continue
                value = results[(kind, int(size))][operation]["p95_ms"]
                verdict = "PASS" if value < limit else "FAIL"
                print(
                    f"{verdict} {kind} {operation} p95 with {size} sessions: {value:.2f} ms (limit {limit} ms)"
                )
                if verdict == "FAIL":
                    failures.append(f"{kind}:{operation}@{size}")
    return failures


def main() -> int:
    """Run the benchmark and print a table (and the verdicts with --check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument(
        "--stores", nargs="+", choices=("file", "postgresql"), default=["file", "postgresql"]
    )
    parser.add_argument("--file-max", type=int, default=100_000)
    parser.add_argument(
        "--postgres-url", help="an empty database to use (default: a throwaway server)"
    )
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--check", action="store_true", help="compare with specs/thresholds.json")
    args = parser.parse_args()
    # A terminated run still stops its throwaway server (SystemExit unwinds the with blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.postgres_url and len(args.sizes) > 1:
        parser.error("--postgres-url takes one size (each size needs an empty database)")
    results = run(args)
    return 1 if args.check and check(results) else 0


if __name__ == "__main__":
    sys.exit(main())
