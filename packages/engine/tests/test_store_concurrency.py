"""Several processes updating one session through their own stores lose no update."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from pathlib import Path

import pytest
from pos_engine._file_store import FileSessionStore
from pos_engine._models import Session
from pos_engine.testing import make_session

pytestmark = pytest.mark.slow

PROCESSES = 4
UPDATES_EACH = 250
SESSION_ID = "contended"


def _increment(session: Session) -> Session:
    session.options["counter"] += 1
    session.options["writers"][str(multiprocessing.current_process().pid)] = True
    return session


def _worker(state_dir: str, start: multiprocessing.synchronize.Event) -> None:
    store = FileSessionStore(state_dir, durable=True)
    start.wait()
    for _ in range(UPDATES_EACH):
        store.update(SESSION_ID, _increment)


def test_processes_updating_one_session_lose_no_update(tmp_path: Path) -> None:
    # fork: the children need not re-import this test module (importlib import mode).
    context = multiprocessing.get_context("fork")
    store = FileSessionStore(tmp_path / "state")
    store.create(make_session(SESSION_ID, options={"counter": 0, "writers": {}}))
    start = context.Event()
    workers = [
        context.Process(target=_worker, args=(str(store.state_dir), start))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    final = store.load(SESSION_ID)
    assert final.options["counter"] == PROCESSES * UPDATES_EACH
    assert final.version == 1 + PROCESSES * UPDATES_EACH
    assert sorted(final.options["writers"]) == sorted(str(w.pid) for w in workers)
    assert store.list_summaries() == [final.summary()]
    files = sorted(
        p.relative_to(store.state_dir).as_posix() for p in store.state_dir.rglob("*") if p.is_file()
    )
    assert files == [
        ".index/compact",
        ".index/lock",
        ".index/log",
        f".locks/{SESSION_ID}.lock",
        f"{SESSION_ID}.json",
    ]
    # Every process's writes reached the shared log: a fresh instance lists the final state.
    assert FileSessionStore(store.state_dir).list_page().summaries == [final.summary()]
