"""Several processes starting sessions, and completing the same phases, at the same moment."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from pathlib import Path
from typing import Any

import pytest
from pos_engine import StateError, WorkflowEngine
from pos_engine._definitions import bundled_workflows_dir

# slow: several processes start sessions at once
pytestmark = pytest.mark.slow

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


SESSIONS = 12


def _simple_workflow(project: Path) -> None:
    """Copy test_generation_v3 into the project with a checkpoint any name can pass."""
    folder = project / ".praxis-os" / "workflows" / "contested"
    shutil.copytree(bundled_workflows_dir() / "test_generation_v3", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta.update(workflow_type="contested", aliases=[])
    for phase in meta["phases"]:
        phase["checkpoint"].update(
            required_evidence=["by"],
            evidence_schema={
                "type": "object",
                "required": ["by"],
                "properties": {"by": {"type": "string"}},
            },
            evidence_example={"by": "example"},
        )
    (folder / "metadata.json").write_text(json.dumps(meta))


def _complete_everything(project: str, me: str, ids: list[str], barrier: Any, out: Any) -> None:
    """Race the other process: complete every phase of every session, signing as ``me``."""
    engine = WorkflowEngine.for_project(project)
    won: list[tuple[str, int]] = []
    lost = 0
    barrier.wait()
    pending = list(ids)
    while pending:
        for sid in list(pending):
            state = engine.get_workflow_state(sid)
            if state["session_status"] == "completed":
                pending.remove(sid)
                continue
            phase = state["current_phase"]
            try:
                result = engine.complete_phase(sid, phase, {"by": me})
            except StateError:
                lost += 1  # the other process completed this phase first
                continue
            assert result["checkpoint_passed"] is True
            won.append((sid, phase))
    out.put((me, won, lost))


@pytest.mark.slow
def test_two_processes_completing_the_same_phases_advance_each_once(tmp_path: Path) -> None:
    _simple_workflow(tmp_path)
    engine = WorkflowEngine.for_project(tmp_path)
    ids = [
        engine.start_workflow("contested", f"src/m{n}.py")["session_id"] for n in range(SESSIONS)
    ]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    out: multiprocessing.Queue[tuple[str, list[tuple[str, int]], int]] = ctx.Queue()
    racers = [
        ctx.Process(target=_complete_everything, args=(str(tmp_path), me, ids, barrier, out))
        for me in ("A", "B")
    ]
    for racer in racers:
        racer.start()
    results = [out.get(timeout=300) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0

    winners: dict[tuple[str, int], list[str]] = {}
    for me, won, _lost in results:
        for key in won:
            winners.setdefault(key, []).append(me)
    phases = range(1, 6)
    assert sorted(winners) == sorted((sid, p) for sid in ids for p in phases)
    double = {key: who for key, who in winners.items() if len(who) != 1}
    assert double == {}, f"phases advanced twice: {double}"
    for sid in ids:
        session = engine.store.load(sid)
        assert session.status == "completed"
        assert {int(p): a["by"] for p, a in session.artifacts.items()} == {
            p: winners[(sid, p)][0] for p in phases
        }
        passed = [a.phase for a in session.phase_history if a.status == "passed"]
        assert passed == list(phases)
    contested = sum(lost for _me, _won, lost in results)
    print(f"\n{len(winners)} phases completed once each; {contested} contested attempts lost")
    assert contested > 0  # the two really raced
