"""Workflow execution: start, phases, tasks, checkpoints, retry and rollback.

Every action reads a session's phases through :func:`workflow_of_session`: for a
dynamic workflow, the phases its frozen plan derived from the spec.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

from ._approval import (
    add_approval,
    approval_for,
    awaiting_answer,
    awaits_same,
    decide,
    request_approval,
)
from ._attempts import advance as _advance
from ._attempts import close_attempt as _close_attempt
from ._attempts import current_attempt as _current_attempt
from ._attempts import open_attempt as _open_attempt
from ._audit import (
    append_entry,
    open_chain,
    record_checkpoint,
    record_replan,
    record_start,
)
from ._content import phase_content, task_content
from ._definitions import Checkpoint, WorkflowDefinition, WorkflowRegistry
from ._dynamic import plan_summary, workflow_of_session
from ._file_store import FileSessionStore
from ._gates import GateResult, GateVerdicts
from ._gates_config import GateSettings, load_gate_settings, with_project_approvals
from ._ids import new_session_id
from ._legacy_definitions import legacy_findings
from ._lifecycle import next_actions, require_status
from ._models import ErrorRecord, Session, SpecPlan
from ._params import require_dict, require_int
from ._spec_gates import open_items
from ._spec_plan import plan_at_start, plan_on_completion, replan, set_plan
from ._state import Clock, StateManager
from ._store import SessionStore
from ._verify import ServerChecks, VerificationReport, with_verification
from ._verify_spec import ApprovalSpec
from .exceptions import ConflictError, PosError, StateError, ValidationError
from .guards import (
    checked_evidence_json,
    validate_evidence_size,
    validate_target_file,
    validate_workflow_type,
)

__all__ = ["WorkflowEngine"]

MAX_OPTIONS_BYTES = 64 * 1024
_ID_ATTEMPTS = 5


class WorkflowEngine:
    """Runs phase-gated workflows over a session store.

    Args:
        registry: Where workflow definitions come from.
        state_manager: Session management over the same store.

    Use :meth:`for_project` to build one over the default file store.
    """

    def __init__(self, registry: WorkflowRegistry, state_manager: StateManager) -> None:
        self.registry = registry
        self.state_manager = state_manager

    @classmethod
    def for_project(
        cls,
        project_root: str | os.PathLike[str],
        *,
        store: SessionStore | None = None,
        durable: bool = True,
        clock: Clock | None = None,
    ) -> WorkflowEngine:
        """Build an engine for ``project_root`` with the file store of DESIGN.md by default."""
        root = Path(project_root)
        registry = WorkflowRegistry(root)
        store = store or FileSessionStore.from_project(root, durable=durable)
        return cls(registry, StateManager(store, registry, clock=clock))

    @property
    def store(self) -> SessionStore:
        """The session store shared with the state manager."""
        return self.state_manager.store

    @property
    def project_root(self) -> Path:
        """The project whose files target_file is relative to."""
        return self.registry.project_root

    # ----------------------------------------------------------------- discovery

    def list_workflows(self, category: object = None) -> dict[str, Any]:
        """List valid workflows (optionally one category) and report invalid ones."""
        if category is not None and not isinstance(category, str):
            raise ValidationError(
                f"category must be a string, got {type(category).__name__}",
                remediation="Pass a category such as code_generation, or leave it out.",
            )
        workflows = [_listed(w) for w in self.registry.workflows(category)]
        result: dict[str, Any] = {
            "workflows": workflows,
            "count": len(workflows),
            "category_filter": category,
            "categories": sorted({w.category for w in self.registry.workflows()}),
            "next_actions": ["start", "list_sessions"],
        }
        problems = self.registry.problems()
        if problems:
            result["invalid_workflows"] = [p.to_dict() for p in problems]
        return result

    # ----------------------------------------------------------------- execution

    def start_workflow(
        self, workflow_type: object, target_file: object, options: object = None
    ) -> dict[str, Any]:
        """Start a session of ``workflow_type`` on ``target_file`` and return its first phase."""
        wtype = validate_workflow_type(workflow_type)
        target = validate_target_file(target_file, self.project_root)
        opts = {} if options is None else require_dict("options", options)
        validate_evidence_size(opts, MAX_OPTIONS_BYTES)
        definition = self.registry.get(wtype)
        stamp = self.state_manager.stamp()
        plan: SpecPlan | None = None
        if definition.dynamic is not None:
            plan = plan_at_start(self.project_root, definition, target, opts, stamp)
        for _ in range(_ID_ATTEMPTS):
            session = Session(
                session_id=new_session_id(
                    definition.workflow_type, target, self.state_manager.now()
                ),
                workflow_type=definition.workflow_type,
                workflow_version=definition.version,
                target_file=target,
                start_phase=definition.start_phase,
                current_phase=definition.start_phase,
                total_phases=definition.total_phases + (len(plan.phases) if plan else 0),
                created_at=stamp,
                updated_at=stamp,
                options=opts,
                dynamic=definition.dynamic is not None,
                plan=plan,
            )
            _open_attempt(session, definition.start_phase, stamp)
            record_start(session, stamp)
            try:
                session = self.store.create(session)
                break
            except ConflictError:
                continue
        else:  # pragma: no cover - 24 random bits colliding five times in one second
            raise ConflictError(
                "could not allocate a unique session id", remediation="Retry start."
            )
        result = {
            "session_id": session.session_id,
            "workflow_type": session.workflow_type,
            "workflow_name": definition.name,
            "target_file": session.target_file,
            "current_phase": session.current_phase,
            "start_phase": session.start_phase,
            "total_phases": session.total_phases,
            "phase_content": phase_content(self._definition(session), session),
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }
        return _with_plan(result, session)

    def _definition(
        self, session: Session, settings: GateSettings | None = None
    ) -> WorkflowDefinition:
        """The session's workflow: for a dynamic one, with its frozen plan's phases.

        Phases the project's gates.json makes approval-gated carry that approval
        (``settings``: those a call already loaded, so that one call sees one gates.json).
        """
        definition = workflow_of_session(self.registry.get(session.workflow_type), session)
        if settings is None:
            settings = load_gate_settings(self.project_root)
        return with_project_approvals(definition, settings)

    def get_current_phase(self, session_id: object) -> dict[str, Any]:
        """Return the session's current phase with the artifacts of earlier phases."""
        session = self.state_manager.peek(session_id)
        definition = self._definition(session)
        result = {
            "session_id": session.session_id,
            "current_phase": session.current_phase,
            "total_phases": session.total_phases,
            "completed_phases": session.completed_phases,
            "phase_content": phase_content(definition, session),
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }
        add_approval(result, session)
        return _with_plan(result, session, only_planning=session.current_phase)

    def get_task(self, session_id: object, phase: object, task_number: object) -> dict[str, Any]:
        """Return one task of a reached phase, with parsed execution steps."""
        session = self.state_manager.peek(session_id)
        number = require_int("phase", phase)
        task_no = require_int("task_number", task_number)
        definition = self._definition(session)
        phase_def = definition.phase(number)
        if number > session.current_phase:
            raise StateError(
                f"phase {number} is not reached yet (current phase {session.current_phase}); "
                "tasks unlock when their phase starts",
                remediation=f"Complete phase {session.current_phase} first, or ask for a task of phase "
                f"{session.current_phase}.",
            )
        task = phase_def.task(task_no)
        return {
            "session_id": session.session_id,
            "phase": number,
            "task_number": task_no,
            "total_tasks": len(phase_def.tasks),
            "next_task": task_no + 1 if task_no < len(phase_def.tasks) else None,
            "task_content": task_content(task, session.target_file),
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }

    def complete_phase(self, session_id: object, phase: object, evidence: object) -> dict[str, Any]:
        """Submit evidence for the current phase; advance when its checkpoint passes.

        A failed checkpoint is an answer, not an exception: the result has
        ``checkpoint_passed: False`` with every missing field and schema error,
        the failure is recorded in the session's errors and the session is failed.
        Repeating a passed call with the same evidence returns the same success.

        Fields the checkpoint marks ``x-verify`` are verified by the server itself
        (files read, commands run where the project allows) before the lock is taken;
        a failed check fails the checkpoint with its JSON pointer in
        ``verification_errors``. A phase that needs a person's approval does not
        complete when its evidence passes: the session awaits approval
        (``awaiting_approval``) and the answer says so. Every decision is appended
        to the session's audit trail.

        A non-strict (legacy) checkpoint that fails lets the phase pass: the success
        result carries ``warnings`` (one per missing field and schema error, naming the
        field) and the same warnings, stamped, are appended to ``session.warnings``.

        The planning phase of a dynamic session without a plan derives the plan as it
        completes (from ``evidence.spec_path``, else the start options or
        target_file); when no spec is found or it does not parse, the checkpoint
        fails with the reason, whatever the gate's strictness.
        """
        before = self.state_manager.peek(session_id)
        sid = before.session_id
        number = require_int("phase", phase)
        payload = require_dict("evidence", evidence)
        evidence_sha256 = hashlib.sha256(checked_evidence_json(payload)).hexdigest()
        outcome: dict[str, Any] = {}
        settings = load_gate_settings(self.project_root)
        settings.require_usable()
        gates, checks = self._prime(before, number, payload, settings)

        def apply(session: Session) -> Session | None:
            outcome.clear()  # a store may call the updater again after a conflict
            definition = self._definition(session, settings)
            if _answered_as_completed(session, definition, number, gates, outcome):
                return None
            if awaits_same(session, number, payload):
                outcome["awaiting"] = True
                return None  # the same evidence again: it still awaits approval
            require_status(session, ("active", "failed"), "complete_phase")
            _require_current_phase(session, number)
            checkpoint = definition.phase(number).checkpoint
            report = checks.result(checkpoint)  # cheap: re-stats the files it read
            stamp = self.state_manager.stamp()
            open_chain(session, stamp)
            attempt = _current_attempt(session, stamp)
            gate = gates.evaluate(checkpoint).with_verification(report.failures if report else [])
            outcome["report"] = report
            session.evidence[str(number)] = payload
            session.updated_at = stamp
            outcome["gate"] = gate
            outcome["attempt"] = attempt.attempt
            unplanned = None
            if gate.passed or not checkpoint.strict:
                unplanned = plan_on_completion(
                    self.project_root, definition, session, number, evidence=payload, stamp=stamp
                )
                gate = outcome["gate"] = unplanned or gate
            failed = not gate.passed and (
                checkpoint.strict or unplanned is not None or bool(gate.verification_errors)
            )
            _settle(
                session,
                number,
                gate,
                report,
                failed=failed,
                approval=approval_for(definition, number),
                evidence_sha256=evidence_sha256,
                checkpoint=checkpoint,
                outcome=outcome,
                stamp=stamp,
            )
            return session

        session = self.store.update(sid, apply)
        report = outcome.get("report")
        if outcome.get("awaiting"):
            answer = awaiting_answer(session, number)
            if outcome.get("warnings"):
                answer["warnings"] = outcome["warnings"]
            return with_verification(answer, report)
        definition = self._definition(session, settings)
        gate = outcome.get("gate")
        if isinstance(gate, GateResult) and not gate.passed and not outcome.get("warnings"):
            return _with_plan(
                with_verification(
                    _failure(session, number, gate, definition, outcome["attempt"]), report
                ),
                session,
                only_planning=number,
            )
        result = with_verification(_success(session, number, definition), report)
        if outcome.get("warnings"):
            result["warnings"] = outcome["warnings"]
        spec = definition.phase(number).spec
        if spec is not None:
            result["open_items"] = open_items(spec, payload)
        return _with_plan(result, session, only_planning=number)

    def _prime(
        self, before: Session, number: int, payload: dict[str, Any], settings: GateSettings
    ) -> tuple[GateVerdicts, ServerChecks]:
        """Judge the evidence before the session lock is taken, for the update to reuse.

        The schema gate is evaluated and the server checks run here, so however long
        they take, no other call on this session waits for them.
        """
        gates = GateVerdicts(payload)
        checks = ServerChecks(self.project_root, payload, settings)
        with contextlib.suppress(PosError):
            checkpoint = self._definition(before, settings).phase(number).checkpoint
            gates.prime(checkpoint)
            if before.status in ("active", "failed") and number == before.current_phase:
                checks.prime(
                    checkpoint,
                    workflow_type=before.workflow_type,
                    target_file=before.target_file,
                    schema_passed=gates.evaluate(checkpoint).passed,
                )
        return gates, checks

    def get_workflow_state(self, session_id: object) -> dict[str, Any]:
        """Return the session's progress, artifacts and whether it can be resumed."""
        session = self.state_manager.peek(session_id)
        result = {
            "session_id": session.session_id,
            "workflow_type": session.workflow_type,
            "target_file": session.target_file,
            "current_phase": session.current_phase,
            "start_phase": session.start_phase,
            "total_phases": session.total_phases,
            "completed_phases": session.completed_phases,
            "artifacts": session.artifacts,
            "session_status": session.status,
            "created_at": session.created_at,
            "last_updated": session.updated_at,
            "completed_at": session.completed_at,
            "resume_capable": session.status != "completed",
            "error_count": len(session.errors),
            "checkpoint_note": session.checkpoint_note,
            "next_actions": next_actions(session.status),
        }
        add_approval(result, session)
        return _with_plan(result, session)

    # ------------------------------------------------------------------ recovery

    def retry_phase(
        self,
        session_id: object,
        phase: object,
        reset_evidence: object = False,
        replan: object = False,
    ) -> dict[str, Any]:
        """Open a fresh attempt at the current phase, returning its earlier errors.

        With ``replan`` (dynamic workflows only) the session's spec is read again
        and its plan replaced when tasks.md changed: the answer's ``replan`` says
        what changed. A change in a phase before the current one is refused.
        """
        sid = self.state_manager.peek(session_id).session_id
        number = require_int("phase", phase)
        for name, value in (("reset_evidence", reset_evidence), ("replan", replan)):
            if not isinstance(value, bool):
                raise ValidationError(
                    f"{name} must be true or false, got {type(value).__name__}",
                    remediation=f"Pass {name}=true, or leave it out.",
                )
        opened: list[int] = []
        changes: list[str] = []

        def retry(session: Session) -> Session | None:
            opened.clear()
            changes.clear()
            require_status(session, ("active", "failed"), "retry_phase")
            if number != session.current_phase:
                raise StateError(
                    f"retry_phase retries only the current phase ({session.current_phase}), not phase {number}",
                    remediation=f"Call retry_phase with phase={session.current_phase}, or rollback to go back.",
                )
            stamp = self.state_manager.stamp()
            if replan:
                changes.extend(self._replan(session, stamp))
                if changes:
                    record_replan(session, changes, stamp)
            has_evidence = str(number) in session.evidence
            if session.status == "active" and not (reset_evidence and has_evidence):
                return session if changes else None  # a repeated retry changes nothing
            if session.status == "failed":
                opened.append(_open_attempt(session, number, stamp).attempt)
            if reset_evidence:
                session.evidence.pop(str(number), None)
            session.status = "active"
            session.updated_at = stamp
            return session

        session = self.store.update(sid, retry)
        attempt = next(a.attempt for a in reversed(session.phase_history) if a.phase == number)
        result: dict[str, Any] = {
            "session_id": sid,
            "retrying": True,
            "phase": number,
            "attempt": attempt,
            "new_attempt_opened": bool(opened),
            "evidence_reset": bool(reset_evidence),
            "previous_errors": [e.model_dump() for e in session.errors if e.phase == number],
            "current_phase": session.current_phase,
            "total_phases": session.total_phases,
            "phase_content": phase_content(self._definition(session), session),
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }
        if replan:
            result["replan"] = {
                "changed": bool(changes),
                "changes": list(changes),
                "plan": plan_summary(session),
            }
        return result

    def _replan(self, session: Session, stamp: str) -> list[str]:
        """Re-read the session's spec into its plan; return what changed (nothing: [])."""
        definition = self.registry.get(session.workflow_type)
        if definition.dynamic is None:
            raise ValidationError(
                f"replan applies to dynamic workflows only; {session.workflow_type!r} has fixed "
                "phases",
                remediation="Leave replan out: this workflow's phases do not come from a spec.",
            )
        plan, changes = replan(self.project_root, definition, session, stamp)
        if changes:
            set_plan(session, plan)
            session.updated_at = stamp
        return changes

    def rollback(self, session_id: object, to_phase: object) -> dict[str, Any]:
        """Return the session to ``to_phase``, clearing artifacts and evidence of later phases.

        ``to_phase`` itself is reopened: it leaves completed_phases and artifacts, and
        its last submitted evidence stays available (get_session lists evidence_phases).
        """
        sid = self.state_manager.peek(session_id).session_id
        target = require_int("to_phase", to_phase)
        moved: dict[str, Any] = {}

        def roll(session: Session) -> Session | None:
            require_status(session, ("active", "failed", "completed"), "rollback")
            self._definition(session).phase(target)
            origin = session.current_phase
            reopening_completed = session.status == "completed" and target == origin
            if target > origin:
                raise StateError(
                    f"cannot roll back forward: to_phase {target} is after the current phase {origin}",
                    remediation=f"Pass a to_phase from {session.start_phase} to {origin}.",
                )
            if target == origin and not reopening_completed:
                moved.update(from_phase=origin, cleared=[], changed=False)
                return None  # already there: repeating a rollback changes nothing
            stamp = self.state_manager.stamp()
            open_chain(session, stamp)
            for record in session.phase_history:
                if record.status == "in_progress":
                    _close_attempt(record, "rolled_back", stamp)
            cleared = sorted(
                {int(k) for k in (*session.artifacts, *session.evidence) if int(k) > target}
                | {p for p in session.completed_phases if p > target}
            )
            for number in cleared:
                session.artifacts.pop(str(number), None)
                session.evidence.pop(str(number), None)
            # to_phase is reopened: artifacts hold completed phases only, while its last
            # submission stays in evidence for the agent to start from.
            session.artifacts.pop(str(target), None)
            session.completed_phases = [p for p in session.completed_phases if p < target]
            session.current_phase = target
            session.status = "active"
            session.completed_at = None
            session.updated_at = stamp
            if session.approval is not None and session.approval.phase >= target:
                session.approval = None
            _open_attempt(session, target, stamp)
            append_entry(
                session,
                "rollback",
                at=stamp,
                phase=target,
                data={"from_phase": origin, "cleared_phases": cleared},
            )
            moved.update(from_phase=origin, cleared=cleared, changed=True)
            return session

        session = self.store.update(sid, roll)
        return {
            "session_id": sid,
            "rolled_back": moved["changed"],
            "from_phase": moved["from_phase"],
            "to_phase": target,
            "cleared_phases": moved["cleared"],
            "current_phase": session.current_phase,
            "completed_phases": session.completed_phases,
            "phase_content": phase_content(self._definition(session), session),
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }

    # ------------------------------------------------------------------ approval

    def approve_phase(
        self, session_id: object, phase: object, *, by: object, reason: object = None
    ) -> dict[str, Any]:
        """Approve the evidence of ``phase``, which awaits a person's approval.

        The phase's server checks run again first (its files must still hold); then
        the phase completes as a passed checkpoint would. This is for people
        (``pos-workflow approve``): no action of the MCP tool reaches it.

        Raises:
            StateError: the session does not await approval of ``phase``, or the
                server checks fail now.
        """
        return decide(self, session_id, phase, approve=True, by=by, reason=reason)

    def reject_phase(
        self, session_id: object, phase: object, *, by: object, reason: object
    ) -> dict[str, Any]:
        """Reject the evidence of ``phase``: the phase reopens with ``reason`` as an error.

        Raises:
            StateError: the session does not await approval of ``phase``.
            ValidationError: ``reason`` is missing or empty.
        """
        return decide(self, session_id, phase, approve=False, by=by, reason=reason)


def _settle(
    session: Session,
    number: int,
    gate: GateResult,
    report: VerificationReport | None,
    *,
    failed: bool,
    approval: ApprovalSpec | None,
    evidence_sha256: str,
    checkpoint: Checkpoint,
    outcome: dict[str, Any],
    stamp: str,
) -> None:
    """Apply a checkpoint's verdict to the session: fail, await approval, or advance.

    Every verdict is appended to the audit trail.
    """
    attempt = _current_attempt(session, stamp)

    def record(decision: str) -> None:
        record_checkpoint(
            session,
            number,
            gate,
            report,
            checkpoint=checkpoint,
            outcome=decision,
            attempt=attempt.attempt,
            evidence_sha256=evidence_sha256,
            at=stamp,
        )

    if failed:
        _close_attempt(attempt, "failed", stamp)
        session.status = "failed"
        session.errors.append(_checkpoint_error(number, gate, stamp))
        record("failed")
        return
    if not gate.passed:  # a non-strict legacy gate passes the phase, never silently
        outcome["warnings"] = _record_warnings(session, number, gate, stamp)
    if approval is not None:
        request_approval(session, number, approval, evidence_sha256, stamp)
        record("awaiting_approval")
        outcome["awaiting"] = True
        return
    _close_attempt(attempt, "passed", stamp)
    session.approval = None
    _advance(session, number, session.evidence[str(number)], stamp)
    record("passed_with_warnings" if outcome.get("warnings") else "passed")


def _gate_warnings(phase: int, gate: GateResult) -> list[dict[str, Any]]:
    """Return the warnings of a failed non-strict gate: one per missing field and schema error."""
    return [{"phase": phase, "source": "checkpoint", **finding} for finding in gate.findings()]


def _record_warnings(
    session: Session, phase: int, gate: GateResult, stamp: str
) -> list[dict[str, Any]]:
    """Append a failed non-strict gate's warnings, stamped, to the session; return them."""
    warnings = _gate_warnings(phase, gate)
    session.warnings.extend({**w, "timestamp": stamp} for w in warnings)
    return warnings


def _answered_as_completed(
    session: Session,
    definition: WorkflowDefinition,
    number: int,
    gates: GateVerdicts,
    outcome: dict[str, Any],
) -> bool:
    """Answer evidence for an already completed phase without recording it, when that applies.

    The same evidence again is a replay (the same success); evidence that would fail the
    checkpoint of a phase that is done gets the checkpoint's answer. Either way the phase
    keeps its accepted evidence. Returns whether ``outcome`` now holds the answer.
    """
    if number not in session.completed_phases:
        return False
    if session.artifacts.get(str(number)) == gates.evidence:
        outcome["replayed"] = True
        outcome["warnings"] = _lenient_warnings(definition, number, gates)
        return True
    if number != session.current_phase or session.status == "completed":
        gate = gates.evaluate(definition.phase(number).checkpoint)
        if not gate.passed:
            outcome.update(gate=gate, attempt=None)
            return True
    return False


def _lenient_warnings(
    definition: WorkflowDefinition, phase: int, gates: GateVerdicts
) -> list[dict[str, Any]]:
    """Return the warnings a non-strict gate gives the evidence (none for a strict gate)."""
    checkpoint = definition.phase(phase).checkpoint
    gate = gates.evaluate(checkpoint)
    return [] if checkpoint.strict or gate.passed else _gate_warnings(phase, gate)


def _sentence(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower-case "JSON")."""
    return text[:1].upper() + text[1:]


def _require_current_phase(session: Session, number: int) -> None:
    """Raise StateError unless ``number`` is the phase the session is working on."""
    if number == session.current_phase:
        return
    if number in session.completed_phases:
        raise StateError(
            f"phase {number} is already completed with different evidence "
            f"(current phase {session.current_phase})",
            remediation=f"To redo phase {number}, call rollback with to_phase={number} first.",
        )
    raise StateError(
        f"phase {number} is not the current phase ({session.current_phase}); "
        f"complete phase {session.current_phase} first",
        remediation=f"Call complete_phase with phase={session.current_phase}.",
        details={"current_phase": session.current_phase, "session_status": session.status},
    )


def _checkpoint_error(phase: int, gate: GateResult, stamp: str) -> ErrorRecord:
    return ErrorRecord(
        phase=phase,
        timestamp=stamp,
        error_type="CheckpointFailed",
        message=f"checkpoint of phase {phase} failed: {gate.summary()}",
        details={
            "missing_evidence": gate.missing_evidence,
            "validation_errors": gate.validation_errors,
            "validation_error_count": gate.error_count,
            **(
                {"verification_errors": gate.verification_errors}
                if gate.verification_errors
                else {}
            ),
        },
        remediation=_remediation(phase, gate),
    )


def _remediation(phase: int, gate: GateResult) -> str:
    steps = []
    if gate.missing_evidence:
        steps.append("add " + ", ".join(repr(m) for m in gate.missing_evidence))
    if gate.validation_errors:
        shown = len(gate.validation_errors)
        steps.append(
            "fix each validation_errors entry at its JSON pointer"
            if gate.error_count <= shown
            else f"fix each validation_errors entry at its JSON pointer (only the first {shown} of "
            f"{gate.error_count}{'' if gate.error_count_complete else '+'} errors are listed)"
        )
    again = f"call complete_phase with phase={phase} again."
    files = (
        "Write or fix the file each verification_errors entry names (the server reads it "
        "itself; claiming it is not enough)"
    )
    if not steps:
        return f"{files}, then {again}"
    return (
        f"{_sentence(' and '.join(steps))} as phase_content.checkpoint.evidence_schema describes "
        f"(checkpoint.evidence_example passes)"
        + (f". {files}" if gate.verification_errors else "")
        + f", then {again}"
    )


def _failure(
    session: Session,
    phase: int,
    gate: GateResult,
    definition: WorkflowDefinition,
    attempt: int | None,
) -> dict[str, Any]:
    """The checkpoint's answer; ``attempt`` is None when nothing was recorded."""
    checkpoint = definition.phase(phase).checkpoint
    if attempt is None:
        error = (
            f"phase {phase} is already completed and this evidence would fail its checkpoint: "
            f"{gate.summary()}; nothing was recorded"
        )
        remediation = (
            f"Phase {phase} keeps its accepted evidence. To redo it, call rollback with "
            f"to_phase={phase}, then complete_phase with evidence that passes."
        )
    else:
        error = f"checkpoint of phase {phase} failed: {gate.summary()}"
        remediation = _remediation(phase, gate)
    result: dict[str, Any] = {
        "session_id": session.session_id,
        "checkpoint_passed": False,
        "phase": phase,
        "recorded": attempt is not None,
        "error": error,
        "error_type": "ValidationError",
        "missing_evidence": gate.missing_evidence,
        "validation_errors": gate.validation_errors,
        "validation_error_count": gate.error_count,
        **({"verification_errors": gate.verification_errors} if gate.verification_errors else {}),
        "remediation": remediation,
        "checkpoint": checkpoint.to_dict(),
        "current_phase": session.current_phase,
        "session_status": session.status,
        "next_actions": next_actions(session.status),
    }
    if attempt is not None:
        result["attempt"] = attempt
    return result


def _success(session: Session, phase: int, definition: WorkflowDefinition) -> dict[str, Any]:
    finished = session.status == "completed" and phase == session.last_phase
    result: dict[str, Any] = {
        "session_id": session.session_id,
        "checkpoint_passed": True,
        "phase_completed": phase,
        "evidence_accepted": True,
        "next_phase": None if finished else phase + 1,
        "workflow_completed": finished,
        "current_phase": session.current_phase,
        "total_phases": session.total_phases,
        "completed_phases": session.completed_phases,
        "session_status": session.status,
        "next_actions": next_actions(session.status),
    }
    if not finished:
        result["phase_content"] = phase_content(definition, session, phase + 1)
    return result


def _listed(definition: WorkflowDefinition) -> dict[str, Any]:
    """A list_workflows entry: the summary, and the definition's findings when it has any."""
    entry = definition.summary()
    findings = [
        {key: value for key, value in finding.items() if key != "workflow_type"}
        for finding in legacy_findings(definition)
    ]
    if findings:
        entry["findings"] = findings
    return entry


def _with_plan(
    result: dict[str, Any],
    session: Session,
    *,
    only_planning: int | None = None,
) -> dict[str, Any]:
    """Add the ``plan`` of a dynamic session (for ``only_planning``: only at the planning phase)."""
    if not session.dynamic:
        return result
    if only_planning is not None:
        planning = session.plan.phase_offset if session.plan else session.last_phase
        if only_planning != planning:
            return result
    result["plan"] = plan_summary(session)
    return result
