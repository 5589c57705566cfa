"""Several processes starting sessions at the same moment."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from pos_engine import WorkflowEngine

PROCESSES = 8
STARTS_EACH = 5


def _start_many(project: str, barrier: Any, out: Any) -> None:
    engine = WorkflowEngine.for_project(project)
    barrier.wait()
    out.put(
        [
            engine.start_workflow("test_generation_v3", "src/same.py")["session_id"]
            for _ in range(STARTS_EACH)
        ]
    )


@pytest.mark.slow
def test_eight_processes_starting_at_once_create_distinct_sessions(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")  # the child needs this test module importable as-is
    barrier = ctx.Barrier(PROCESSES)
    out: multiprocessing.Queue[list[str]] = ctx.Queue()
    workers = [
        ctx.Process(target=_start_many, args=(str(tmp_path), barrier, out))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    ids = [sid for _ in workers for sid in out.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(ids) == len(set(ids)) == PROCESSES * STARTS_EACH
    listed = WorkflowEngine.for_project(tmp_path).state_manager.list_sessions()
    assert sorted(s["session_id"] for s in listed["sessions"]) == sorted(ids)
