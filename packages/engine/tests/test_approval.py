"""Approval gates: a phase a person approves or rejects after its evidence passes.

The workflow is docs/examples/workflows/verified_change_v1 (its phase 3 needs approval),
run by the real engine over each real store in a git repository (the ``change`` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pos_engine import (
    ConflictError,
    StateError,
    ValidationError,
    WorkflowEngine,
    verify_trail,
)
from pos_engine.testing.verified import SIGN_OFF, WF, make_change, write_tests

TG = "test_generation_v3"


def to_sign_off(engine: WorkflowEngine, project: Path) -> str:
    """Start the workflow and pass phases 1 and 2 with real files; return the session id."""
    sid = engine.start_workflow(WF, "src/calculator.py")["session_id"]
    assert engine.complete_phase(sid, 1, make_change(project))["checkpoint_passed"]
    assert engine.complete_phase(sid, 2, write_tests(project))["checkpoint_passed"]
    return sid


@pytest.mark.slow
def test_a_phase_that_needs_approval_waits_after_its_evidence_passes(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    answer = engine.complete_phase(sid, 3, SIGN_OFF)
    digest = answer["approval"]["evidence_sha256"]
    assert {k: v for k, v in answer.items() if k not in ("approval", "verification")} == {
        "session_id": sid,
        "checkpoint_passed": True,
        "evidence_accepted": True,
        "awaiting_approval": True,
        "phase": 3,
        "phase_completed": None,
        "next_phase": None,
        "workflow_completed": False,
        "message": answer["message"],
        "current_phase": 3,
        "total_phases": 3,
        "completed_phases": [1, 2],
        "session_status": "awaiting_approval",
        "next_actions": [
            "get_state",
            "get_phase",
            "get_session",
            "get_errors",
            "get_task",
            "delete_session",
        ],
    }
    assert "Stop here: do not start the next phase" in answer["message"]
    assert answer["approval"] == {
        "phase": 3,
        "status": "pending",
        "prompt": "Read the diff of the files listed in files_touched and the test file, then "
        "approve, or reject with what must change.",
        "requested_at": answer["approval"]["requested_at"],
        "evidence_sha256": digest,
        "decided_at": None,
        "decided_by": None,
        "reason": None,
        "how_to_decide": f"pos-workflow approve --project-root <project> {sid} 3 [--reason TEXT], "
        f'or pos-workflow reject --project-root <project> {sid} 3 --reason "..."',
        "agent_can_decide": False,
    }
    assert [r["pointer"] for r in answer["verification"]] == [
        "/files_touched/0",
        "/files_touched/1",
    ]
    state = engine.get_workflow_state(sid)
    assert (state["session_status"], state["approval"]["status"]) == (
        "awaiting_approval",
        "pending",
    )
    assert engine.get_current_phase(sid)["approval"]["status"] == "pending"
    listed = engine.state_manager.list_sessions("awaiting_approval")["sessions"]
    assert [s["session_id"] for s in listed] == [sid]
    assert engine.store.count_by_status()["awaiting_approval"] == 1


@pytest.mark.slow
def test_no_agent_action_moves_a_session_that_awaits_approval(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    engine.complete_phase(sid, 3, SIGN_OFF)
    before = engine.store.load(sid)
    attempts = [
        lambda: engine.complete_phase(sid, 3, {**SIGN_OFF, "approved": True}),
        lambda: engine.complete_phase(sid, 4, SIGN_OFF),
        lambda: engine.retry_phase(sid, 3),
        lambda: engine.retry_phase(sid, 3, reset_evidence=True),
        lambda: engine.rollback(sid, 2),
        lambda: engine.rollback(sid, 3),
        lambda: engine.state_manager.pause_session(sid),
        lambda: engine.state_manager.resume_session(sid),
    ]
    for attempt in attempts:
        with pytest.raises(StateError, match="awaiting_approval"):
            attempt()
    replay = engine.complete_phase(sid, 3, SIGN_OFF)  # the same evidence again: still waiting
    assert (replay["awaiting_approval"], replay["session_status"]) == (True, "awaiting_approval")
    assert engine.store.load(sid) == before


def test_approving_completes_the_phase_after_checking_its_files_again(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    engine.complete_phase(sid, 3, SIGN_OFF)
    decided = engine.approve_phase(sid, 3, by="alice", reason="looks right")
    assert {
        k: v for k, v in decided.items() if k not in ("decided_at", "audit_head", "verification")
    } == {
        "session_id": sid,
        "phase": 3,
        "decision": "approved",
        "by": "alice",
        "reason": "looks right",
        "session_status": "completed",
        "current_phase": 3,
        "completed_phases": [1, 2, 3],
        "workflow_completed": True,
        "audit_entry": 4,
    }
    assert [r["outcome"] for r in decided["verification"]] == ["passed", "passed"]
    session = engine.store.load(sid)
    assert session.artifacts["3"] == SIGN_OFF
    assert session.approval is None
    assert session.phase_history[-1].status == "passed"
    assert verify_trail(session).ok


def test_approval_is_refused_when_a_checked_file_is_gone(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    engine.complete_phase(sid, 3, SIGN_OFF)
    (change / "tests" / "test_calculator.py").unlink()
    with pytest.raises(StateError) as caught:
        engine.approve_phase(sid, 3, by="alice")
    assert caught.value.message == (
        "cannot approve phase 3: its evidence no longer holds: server check file_exists failed "
        "at /files_touched/1: 'tests/test_calculator.py': file does not exist"
    )
    assert engine.store.load(sid).status == "awaiting_approval"


def test_rejecting_reopens_the_phase_with_the_reason_the_agent_reads(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    engine.complete_phase(sid, 3, SIGN_OFF)
    decided = engine.reject_phase(sid, 3, by="bob", reason="Also test sub() with floats.")
    assert (decided["decision"], decided["session_status"]) == ("rejected", "active")
    errors = engine.state_manager.get_errors(sid)
    last = errors["last_error"]
    assert (last["error_type"], last["message"], last["details"]["reason"]) == (
        "ApprovalRejected",
        "phase 3 was rejected by bob: Also test sub() with floats.",
        "Also test sub() with floats.",
    )
    phase = engine.get_current_phase(sid)
    assert (phase["current_phase"], phase["session_status"]) == (3, "active")
    assert {k: phase["approval"][k] for k in ("status", "decided_by", "reason")} == {
        "status": "rejected",
        "decided_by": "bob",
        "reason": "Also test sub() with floats.",
    }
    history = [(a.phase, a.attempt, a.status) for a in engine.store.load(sid).phase_history]
    assert history[-2:] == [(3, 1, "rejected"), (3, 2, "in_progress")]
    again = engine.complete_phase(
        sid, 3, {**SIGN_OFF, "summary": SIGN_OFF["summary"] + " Floats too."}
    )
    assert again["session_status"] == "awaiting_approval"
    assert engine.approve_phase(sid, 3, by="bob")["workflow_completed"] is True
    assert verify_trail(engine.store.load(sid)).ok


def test_a_rejection_needs_a_reason_and_a_decision_needs_a_waiting_phase(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    with pytest.raises(StateError, match="is 'active', not awaiting approval"):
        engine.approve_phase(sid, 3, by="alice")
    engine.complete_phase(sid, 3, SIGN_OFF)
    with pytest.raises(ValidationError, match="a rejection needs a reason"):
        engine.reject_phase(sid, 3, by="bob", reason="  ")
    with pytest.raises(StateError, match="phase 2 does not await approval"):
        engine.approve_phase(sid, 2, by="alice")
    with pytest.raises(ValidationError, match="control characters"):
        engine.approve_phase(sid, 3, by="alice\nbob")
    assert engine.store.load(sid).status == "awaiting_approval"


@pytest.mark.slow
def test_approval_refuses_evidence_edited_in_the_record_after_submission(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(engine, change)
    engine.complete_phase(sid, 3, SIGN_OFF)

    def tamper(session: Any) -> Any:
        session.evidence["3"] = {**SIGN_OFF, "summary": "Something else entirely, honestly."}
        return session

    engine.store.update(sid, tamper)
    with pytest.raises(ConflictError, match="not the evidence that was submitted for approval"):
        engine.approve_phase(sid, 3, by="alice")


@pytest.mark.slow
def test_a_project_can_require_approval_of_a_bundled_workflows_phase(
    engine: WorkflowEngine, project: Path
) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True)
    (config / "gates.json").write_text(
        json.dumps(
            {"version": 1, "approvals": [{"workflow_type": TG, "phase": 1, "prompt": "Check it."}]}
        )
    )
    started = engine.start_workflow(TG, "src/calculator.py")
    assert started["phase_content"]["checkpoint"]["approval"] == {
        "required": True,
        "prompt": "Check it.",
        "source": ".praxis-os/config/gates.json",
    }
    sid = started["session_id"]
    evidence = started["phase_content"]["checkpoint"]["evidence_example"]
    assert engine.complete_phase(sid, 1, evidence)["session_status"] == "awaiting_approval"
    assert engine.approve_phase(sid, 1, by="carol")["current_phase"] == 2
