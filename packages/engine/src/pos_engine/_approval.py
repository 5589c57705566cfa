"""Approval gates: a phase that a person approves or rejects after its evidence passes.

When a checkpoint with an ``approval`` (from its definition, or from the project's
``gates.json``) passes, the session waits in ``awaiting_approval``: the phase is not
completed and the agent can only read. A person decides with ``pos-workflow approve``
or ``pos-workflow reject`` (:func:`decide`), never through the MCP tool, which has no
action for it. Approving re-runs the server checks first (the files must still hold),
then completes the phase as a passed checkpoint would; rejecting reopens the phase
with the reason recorded as an ``ApprovalRejected`` error the agent reads with
get_errors and get_phase. Each request and decision is an entry of the audit trail.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._attempts import advance, close_attempt, current_attempt, open_attempt
from ._audit import append_entry, json_digest, verification_data
from ._definitions import WorkflowDefinition
from ._dynamic import workflow_of_session
from ._gates_config import load_gate_settings, with_project_approvals
from ._lifecycle import next_actions
from ._models import ApprovalRecord, ErrorRecord, Session
from ._params import require_int
from ._verify import VerificationReport, verify_evidence
from ._verify_spec import ApprovalSpec
from .exceptions import ConflictError, StateError, ValidationError
from .guards import validate_session_id

if TYPE_CHECKING:
    from ._engine import WorkflowEngine

__all__ = [
    "MAX_REASON_CHARS",
    "add_approval",
    "approval_for",
    "approval_view",
    "awaiting_answer",
    "awaits_same",
    "decide",
    "request_approval",
]

MAX_REASON_CHARS = 2000
"""Longest approval or rejection reason accepted."""

_MAX_NAME_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def approval_for(definition: WorkflowDefinition, phase: int) -> ApprovalSpec | None:
    """The approval phase ``phase`` of ``definition`` needs (None: none)."""
    return definition.phase(phase).checkpoint.approval


def how_to_decide(session_id: str, phase: int) -> str:
    """The commands a person runs to decide, for messages and next steps."""
    return (
        f"pos-workflow approve --project-root <project> {session_id} {phase} [--reason TEXT], "
        f'or pos-workflow reject --project-root <project> {session_id} {phase} --reason "..."'
    )


def request_approval(
    session: Session, phase: int, spec: ApprovalSpec, evidence_sha256: str, stamp: str
) -> None:
    """Make the session wait for a person's decision on ``phase``'s evidence."""
    session.status = "awaiting_approval"
    session.approval = ApprovalRecord(
        phase=phase, prompt=spec.prompt, requested_at=stamp, evidence_sha256=evidence_sha256
    )


def approval_view(session: Session) -> dict[str, Any] | None:
    """What get_state and get_phase say about the current phase's approval (None: nothing)."""
    approval = session.approval
    if approval is None or approval.phase != session.current_phase:
        return None
    view = approval.model_dump()
    if approval.status == "pending":
        view["how_to_decide"] = how_to_decide(session.session_id, approval.phase)
        view["agent_can_decide"] = False
    return view


def add_approval(result: dict[str, Any], session: Session) -> None:
    """Add the current phase's pending or rejected approval to an answer, when there is one."""
    view = approval_view(session)
    if view is not None:
        result["approval"] = view


def awaits_same(session: Session, number: int, payload: dict[str, Any]) -> bool:
    """The session already awaits approval of ``number`` for exactly this evidence."""
    return (
        session.status == "awaiting_approval"
        and number == session.current_phase
        and session.evidence.get(str(number)) == payload
    )


def awaiting_answer(session: Session, phase: int) -> dict[str, Any]:
    """The complete_phase answer when the evidence passed and now awaits a person."""
    return {
        "session_id": session.session_id,
        "checkpoint_passed": True,
        "evidence_accepted": True,
        "awaiting_approval": True,
        "phase": phase,
        "phase_completed": None,
        "next_phase": None,
        "workflow_completed": False,
        "approval": approval_view(session),
        "message": (
            f"The evidence of phase {phase} passed its checkpoint and now waits for a person's "
            "approval. Stop here: do not start the next phase. Tell the user that phase "
            f"{phase} awaits their review; check get_state later (session_status becomes "
            "'active' once a person decides)."
        ),
        "current_phase": session.current_phase,
        "total_phases": session.total_phases,
        "completed_phases": session.completed_phases,
        "session_status": session.status,
        "next_actions": next_actions(session.status),
    }


def _person(by: object) -> str:
    if not isinstance(by, str) or not by.strip():
        raise ValidationError(
            f"the approver's name must be a non-empty string, got {by!r:.60}",
            remediation="Pass --by NAME (it defaults to your login name).",
        )
    if len(by) > _MAX_NAME_CHARS or _CONTROL.search(by):
        raise ValidationError(
            f"the approver's name {by!r:.60} is over {_MAX_NAME_CHARS} characters or holds "
            "control characters",
            remediation="Pass a plain name or e-mail address with --by.",
        )
    return by.strip()


def _reason(reason: object, *, required: bool) -> str | None:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        if required:
            raise ValidationError(
                "a rejection needs a reason: the agent reads it to fix the phase",
                remediation='Pass --reason "what must change".',
            )
        return None
    if not isinstance(reason, str):
        raise ValidationError(f"reason must be a string, got {type(reason).__name__}")
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            f"reason is {len(reason)} characters long, over the {MAX_REASON_CHARS} allowed",
            remediation="Shorten the reason; point to a file for the details.",
        )
    return reason.strip()


def _pending(session: Session, phase: int, verb: str) -> ApprovalRecord:
    if session.status != "awaiting_approval":
        raise StateError(
            f"cannot {verb}: session {session.session_id!r} is {session.status!r}, not "
            "awaiting approval, so there is nothing to decide",
            remediation="Run pos-workflow pending to list the phases that await approval.",
            details={"session_status": session.status},
        )
    approval = session.approval
    if approval is None or approval.status != "pending" or approval.phase != phase:
        waiting = approval.phase if approval is not None else session.current_phase
        raise StateError(
            f"phase {phase} does not await approval; session {session.session_id!r} awaits "
            f"approval of phase {waiting}",
            remediation=f"Decide on phase {waiting}.",
        )
    evidence = session.evidence.get(str(phase))
    if evidence is None or json_digest(evidence) != approval.evidence_sha256:
        raise ConflictError(
            f"the evidence of phase {phase} in the session record is not the evidence that was "
            "submitted for approval (the record was edited)",
            remediation="Run pos-workflow verify-session on the session, then reject the phase.",
        )
    return approval


def _reverify(engine: WorkflowEngine, session: Session, phase: int) -> VerificationReport | None:
    """Run the phase's server checks again on its pending evidence (outside the lock)."""
    settings = load_gate_settings(engine.project_root)
    settings.require_usable()
    definition = with_project_approvals(
        workflow_of_session(engine.registry.get(session.workflow_type), session), settings
    )
    checkpoint = definition.phase(phase).checkpoint
    if not checkpoint.verify:
        return None
    report = verify_evidence(
        engine.project_root,
        checkpoint,
        session.evidence.get(str(phase), {}),
        workflow_type=session.workflow_type,
        target_file=session.target_file,
        settings=settings,
    )
    if not report.passed:
        first = report.failures[0]
        raise StateError(
            f"cannot approve phase {phase}: its evidence no longer holds: server check "
            f"{first['check']} failed at {first['pointer']}: {first['message']}",
            remediation="Reject the phase with a reason (pos-workflow reject ... --reason) so "
            "the agent fixes it.",
            details={"verification_errors": report.failures},
        )
    return report


def decide(
    engine: WorkflowEngine,
    session_id: object,
    phase: object,
    *,
    approve: bool,
    by: object,
    reason: object = None,
) -> dict[str, Any]:
    """Approve or reject the evidence of ``phase`` that awaits a person's decision.

    Raises:
        StateError: the session does not await approval of that phase, or (approving)
            the server checks no longer pass.
        ConflictError: the pending evidence differs from what was submitted, or a
            checked file changed during the decision.
        ValidationError: a missing rejection reason or an unusable name.
    """
    sid = validate_session_id(session_id)
    number = require_int("phase", phase)
    person = _person(by)
    note = _reason(reason, required=not approve)
    verb = "approve" if approve else "reject"
    before = engine.state_manager.load(sid)
    _pending(before, number, verb)
    report = _reverify(engine, before, number) if approve else None

    def apply(session: Session) -> Session:
        approval = _pending(session, number, verb)
        if report is not None and report.changed(engine.project_root):
            raise ConflictError(
                "a checked file changed while the approval was being verified",
                remediation="Run the approval again.",
            )
        stamp = engine.state_manager.stamp()
        attempt = current_attempt(session, stamp)
        evidence = session.evidence[str(number)]
        data: dict[str, Any] = {
            "decision": "approved" if approve else "rejected",
            "by": person,
            "reason": note,
            "evidence_sha256": approval.evidence_sha256,
            "requested_at": approval.requested_at,
            "attempt": attempt.attempt,
        }
        if report is not None:
            data.update(verification_data(session, report.records, report.verified_at))
        if approve:
            close_attempt(attempt, "passed", stamp)
            session.approval = None
            advance(session, number, evidence, stamp)
        else:
            close_attempt(attempt, "rejected", stamp)
            open_attempt(session, number, stamp)
            session.status = "active"
            session.approval = approval.model_copy(
                update={
                    "status": "rejected",
                    "decided_at": stamp,
                    "decided_by": person,
                    "reason": note,
                }
            )
            session.errors.append(_rejection(number, person, note or "", approval, stamp))
        session.updated_at = stamp
        append_entry(session, "approval", at=stamp, phase=number, data=data)
        return session

    session = engine.store.update(sid, apply)
    entry = session.audit[-1]
    return {
        "session_id": sid,
        "phase": number,
        "decision": entry.data["decision"],
        "by": person,
        "reason": note,
        "decided_at": entry.at,
        "session_status": session.status,
        "current_phase": session.current_phase,
        "completed_phases": session.completed_phases,
        "workflow_completed": session.status == "completed",
        "verification": report.records if report is not None else [],
        "audit_entry": entry.seq,
        "audit_head": entry.hash,
    }


def _rejection(
    phase: int, by: str, reason: str, approval: ApprovalRecord, stamp: str
) -> ErrorRecord:
    return ErrorRecord(
        phase=phase,
        timestamp=stamp,
        error_type="ApprovalRejected",
        message=f"phase {phase} was rejected by {by}: {reason}",
        details={
            "rejected_by": by,
            "reason": reason,
            "requested_at": approval.requested_at,
            "evidence_sha256": approval.evidence_sha256,
        },
        remediation=(
            f"Address the reviewer's reason, then call complete_phase with phase={phase} and "
            "the revised evidence; a person reviews it again."
        ),
    )
