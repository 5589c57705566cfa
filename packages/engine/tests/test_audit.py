"""The audit trail: every gate decision hash-chained in the session, and verify_trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from pos_engine import (
    FileSessionStore,
    Session,
    WorkflowEngine,
    convert_legacy_session,
    json_digest,
    verify_trail,
)
from pos_engine.testing.drive import FakeClock, complete_all, example_evidence
from pos_engine.testing.verified import SIGN_OFF, WF, make_change, write_tests

TG = "test_generation_v3"


@pytest.fixture
def file_engine(project: Path, clock: FakeClock) -> WorkflowEngine:
    return WorkflowEngine.for_project(project, durable=False, clock=clock)


def to_sign_off(engine: WorkflowEngine, project: Path) -> str:
    sid = engine.start_workflow(WF, "src/calculator.py")["session_id"]
    engine.complete_phase(sid, 1, make_change(project))
    engine.complete_phase(sid, 2, write_tests(project))
    return sid


def decided_session(engine: WorkflowEngine, project: Path) -> str:
    """A session whose trail holds every kind of entry: start, failed, passed, awaiting,
    rejected, approved, rollback."""
    sid = engine.start_workflow(WF, "src/calculator.py")["session_id"]
    claimed = make_change(project)
    engine.complete_phase(sid, 1, {**claimed, "changed_file": "src/missing.py"})  # failed
    engine.complete_phase(sid, 1, claimed)
    engine.complete_phase(sid, 2, write_tests(project))
    engine.complete_phase(sid, 3, SIGN_OFF)
    engine.reject_phase(sid, 3, by="bob", reason="Say why sub() is needed.")
    engine.rollback(sid, 2)
    engine.complete_phase(sid, 2, write_tests(project))
    engine.complete_phase(sid, 3, {**SIGN_OFF, "summary": SIGN_OFF["summary"] + " For reports."})
    engine.approve_phase(sid, 3, by="alice")
    return sid


@pytest.mark.slow
def test_every_decision_is_appended_to_a_chain_that_verifies(
    engine: WorkflowEngine, change: Path
) -> None:
    sid = decided_session(engine, change)
    session = engine.store.load(sid)
    kinds = [
        (e.kind, e.phase, e.data.get("outcome") or e.data.get("decision")) for e in session.audit
    ]
    assert kinds == [
        ("started", 1, None),
        ("checkpoint", 1, "failed"),
        ("checkpoint", 1, "passed"),
        ("checkpoint", 2, "passed"),
        ("checkpoint", 3, "awaiting_approval"),
        ("approval", 3, "rejected"),
        ("rollback", 2, None),
        ("checkpoint", 2, "passed"),
        ("checkpoint", 3, "awaiting_approval"),
        ("approval", 3, "approved"),
    ]
    report = verify_trail(session)
    assert report.to_dict() == {
        "session_id": sid,
        "ok": True,
        "entries": 10,
        "head": session.audit[-1].hash,
        "problems": [],
    }
    passed = session.audit[2].data
    assert passed["evidence_sha256"] == json_digest(session.artifacts["1"])
    checks = [(r["check"], r["outcome"]) for r in passed["verification"]]
    assert checks == [
        ("file_exists", "passed"),
        ("file_sha256", "passed"),
        ("min_lines", "passed"),
        ("git_changed", "passed"),
    ]
    assert passed["verification"][0]["sha256"] == session.artifacts["1"]["changed_file_sha256"]
    assert session.audit[5].data["by"] == "bob"
    assert session.audit[9].data["by"] == "alice"


def _mutations(byte: int) -> bytes:
    """One different byte for each position: keeps the JSON valid where it can."""
    char = chr(byte)
    if char.isdigit():
        return str((int(char) + 1) % 10).encode()
    if char in "abcdef":
        return b"0"
    if char.isalpha():
        return (char.swapcase() if char.swapcase() != char else "x").encode()
    return b"Z" if char != "Z" else b"Y"


@pytest.mark.slow
def test_editing_any_byte_of_the_history_makes_verification_fail_naming_the_entry(
    file_engine: WorkflowEngine, change: Path
) -> None:
    sid = decided_session(file_engine, change)
    store = file_engine.store
    assert isinstance(store, FileSessionStore)
    text = (store.state_dir / f"{sid}.json").read_bytes()
    start = text.index(b'"audit":[') + len(b'"audit":')
    end = start + json.JSONDecoder().raw_decode(text[start:].decode())[1]
    original = json.loads(text)["audit"]
    named = unreadable = unchanged = 0
    for position in range(start, end):
        edited = text[:position] + _mutations(text[position]) + text[position + 1 :]
        try:
            record = json.loads(edited)
            session = Session.model_validate(record)
        except (ValueError, pydantic.ValidationError):
            unreadable += 1  # the store refuses the record: verify-session fails on it
            continue
        entries = record["audit"]
        changed = [i for i, e in enumerate(entries) if i >= len(original) or e != original[i]]
        if not changed and len(entries) == len(original):
            unchanged += 1  # an escape spelled differently: the same history
            continue
        problems = verify_trail(session).problems
        assert problems, f"an edit at byte {position} went unnoticed"
        assert changed[0] in {p.entry for p in problems}, (position, problems)
        named += 1
    assert named > (end - start) // 2
    assert unchanged < 10
    print(f"{end - start} bytes edited: {named} named, {unreadable} unreadable, {unchanged} same")


@pytest.mark.slow
def test_editing_the_record_around_the_chain_is_found_too(
    file_engine: WorkflowEngine, change: Path
) -> None:
    sid = to_sign_off(file_engine, change)
    file_engine.complete_phase(sid, 3, SIGN_OFF)
    session = file_engine.store.load(sid)
    problems: dict[str, Any] = {}

    skipped = session.model_copy(deep=True)
    skipped.status = "active"  # an approval skipped by editing the status
    skipped.approval = None
    problems["status"] = verify_trail(skipped).problems
    swapped = session.model_copy(deep=True)
    swapped.artifacts["2"] = {"test_file": "tests/other.py", "test_count": 9}
    problems["artifact"] = verify_trail(swapped).problems
    completed = session.model_copy(deep=True)
    completed.completed_phases.append(3)
    completed.artifacts["3"] = SIGN_OFF
    problems["completed"] = verify_trail(completed).problems
    truncated = session.model_copy(deep=True)
    truncated.audit.pop(1)
    problems["removed"] = verify_trail(truncated).problems
    emptied = session.model_copy(deep=True)
    emptied.audit.clear()
    problems["emptied"] = verify_trail(emptied).problems
    assert {k: [p.message for p in v][:1] for k, v in problems.items()} == {
        "status": [
            "state: the trail has phase 3 awaiting a person's approval, but the record's session "
            "is 'active' at phase 3"
        ],
        "artifact": [
            "state: the accepted evidence of phase 2 in the record differs from the evidence the "
            "trail accepted (its SHA-256 does not match)"
        ],
        "completed": [
            "state: phase 3 is completed in the record, but no entry of the trail accepted it"
        ],
        "removed": ["entry 1 has seq 2: an entry was removed, added or moved here"],
        "emptied": [
            "the session has no audit trail (sessions started before audit trails existed get "
            "one at their next gate decision; a trail that was removed reads the same)"
        ],
    }


@pytest.mark.slow
def test_a_chain_copied_from_another_session_does_not_verify(
    file_engine: WorkflowEngine, project: Path
) -> None:
    first = file_engine.start_workflow(TG, "src/calculator.py")["session_id"]
    second = file_engine.start_workflow(TG, "src/other.py")["session_id"]
    session = file_engine.store.load(second)
    session.audit = file_engine.store.load(first).audit
    messages = [p.message for p in verify_trail(session).problems]
    assert messages[0].startswith("entry 0 (started, phase 1, ")
    assert "the chain belongs to another session" in messages[0]


@pytest.mark.slow
def test_a_session_from_before_audit_trails_gets_a_chain_at_its_next_decision(
    file_engine: WorkflowEngine, project: Path
) -> None:
    started = file_engine.start_workflow(TG, "src/calculator.py")
    sid = started["session_id"]
    file_engine.complete_phase(sid, 1, example_evidence(started))

    def forget(session: Session) -> Session:
        session.audit.clear()  # as a record written before this version
        return session

    file_engine.store.update(sid, forget)
    assert not verify_trail(file_engine.store.load(sid)).ok
    current = file_engine.get_current_phase(sid)
    file_engine.complete_phase(sid, 2, example_evidence(current))
    session = file_engine.store.load(sid)
    assert [e.kind for e in session.audit] == ["chain_started", "checkpoint"]
    assert session.audit[0].data["artifacts_sha256"] == {"1": json_digest(session.artifacts["1"])}
    assert verify_trail(session).ok


def test_a_migrated_legacy_session_starts_its_chain_at_migration(
    file_engine: WorkflowEngine, project: Path
) -> None:
    raw = {
        "session_id": "3f1c2a8e-1111-4222-8333-444455556666",
        "workflow_type": TG,
        "target_file": "src/calculator.py",
        "current_phase": 2,
        "completed_phases": [1],
        "phase_artifacts": {},
        "checkpoints": {},
        "created_at": "2025-10-23T14:30:22",
        "updated_at": "2025-10-23T15:00:00",
        "metadata": {},
    }
    definition = file_engine.registry.get(TG)
    session, report = convert_legacy_session(raw, definition, project_root=project)
    assert session is not None, report.to_dict()
    assert [e.kind for e in session.audit] == ["migrated"]
    assert session.audit[0].data["completed_phases"] == session.completed_phases
    assert verify_trail(session).ok


def test_completing_a_bundled_workflow_keeps_the_trail_bounded_and_verifiable(
    file_engine: WorkflowEngine, project: Path
) -> None:
    sid = file_engine.start_workflow(TG, "src/calculator.py")["session_id"]
    for _ in range(3):
        file_engine.complete_phase(sid, 1, {})  # failures are recorded too
    complete_all(file_engine, sid)
    session = file_engine.store.load(sid)
    assert len(session.audit) == 1 + 3 + 5
    assert verify_trail(session).ok
    size = len(json.dumps([e.model_dump(mode="json") for e in session.audit]))
    assert size < 16 * 1024
