"""The audit trail: a hash chain of a session's gate decisions, kept in its record.

Every gate decision is appended to ``Session.audit`` as an :class:`AuditEntry`: the
start of the session, each checkpoint (outcome, SHA-256 of the evidence and of the
checkpoint that judged it, what the server verified), each approval or rejection
(who, why, when), each rollback and re-plan. An entry's ``hash`` is the SHA-256 of
its canonical JSON (sorted keys, no spaces, UTF-8) without ``hash``; that JSON
includes ``prev``, the hash of the entry before it (for the first entry, a value
derived from the session id). Editing any entry, or removing, adding or reordering
one, breaks the chain at that entry; :func:`verify_trail` names it. A session that
existed before audit trails (or was migrated from a legacy file) starts its chain
at its next decision (or at migration) with a snapshot of what was accepted so far.

:func:`verify_trail` also checks the record against the chain: every completed
phase must have been accepted in the trail with the evidence the record holds, and
a phase the trail says awaits approval must still await it. So editing the session
file to mark a phase completed, to swap its evidence or to skip an approval is
found too, unless the editor also rewrites the chain (which needs no secret: the
chain detects edits, it does not prevent a determined forger who recomputes it; keep
the head hash ``verify-session`` prints somewhere the agent cannot write).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._models import AuditEntry, Session
from .guards import canonical_json

if TYPE_CHECKING:
    from ._definitions import Checkpoint
    from ._gates import GateResult
    from ._verify import VerificationReport

__all__ = [
    "AUDIT_FORMAT",
    "TrailProblem",
    "TrailReport",
    "append_entry",
    "canonical_json",
    "json_digest",
    "open_chain",
    "record_checkpoint",
    "record_replan",
    "record_start",
    "verification_data",
    "verify_trail",
]

AUDIT_FORMAT = "pos-workflow-audit-v1"
"""Mixed into the first entry's ``prev``, so a chain of another format never verifies."""

MAX_DETAILED_ENTRIES = 1000
"""Past this many entries, checks are recorded by digest only (the record stays bounded)."""

MAX_RECORDS_KEPT = 50
"""Most verification records one entry keeps in full (their digest covers them all)."""

_MAX_TEXT = 2000

_ACCEPTED = ("passed", "passed_with_warnings")


def json_digest(value: Any) -> str:
    """Return the SHA-256 (hex) of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _genesis(session_id: str) -> str:
    return hashlib.sha256(f"{AUDIT_FORMAT}\n{session_id}".encode()).hexdigest()


def _entry_hash(entry: AuditEntry) -> str:
    return json_digest(entry.model_dump(mode="json", exclude={"hash"}))


def _snapshot(session: Session) -> dict[str, Any]:
    """What a chain that starts late takes as given: status, phases, evidence digests."""
    return {
        "session_id": session.session_id,
        "status": session.status,
        "current_phase": session.current_phase,
        "completed_phases": list(session.completed_phases),
        # Every accepted phase, with or without artifacts (a legacy file may hold none).
        "artifacts_sha256": {
            str(p): json_digest(session.artifacts.get(str(p)))
            for p in sorted({*session.completed_phases, *(int(k) for k in session.artifacts)})
        },
        "pending_sha256": (
            {str(session.approval.phase): session.approval.evidence_sha256}
            if session.approval is not None and session.approval.status == "pending"
            else {}
        ),
    }


def _append(
    session: Session, kind: str, at: str, phase: int | None, data: dict[str, Any]
) -> AuditEntry:
    prev = session.audit[-1].hash if session.audit else _genesis(session.session_id)
    entry = AuditEntry(
        seq=len(session.audit), at=at, kind=kind, phase=phase, data=data, prev=prev, hash=""
    )
    entry.hash = _entry_hash(entry)
    session.audit.append(entry)
    return entry


def open_chain(session: Session, at: str) -> None:
    """Start the trail of a session that has none, before a decision changes it."""
    if not session.audit:
        _append(session, "chain_started", at, None, _snapshot(session))


def append_entry(
    session: Session,
    kind: str,
    *,
    at: str,
    phase: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append a ``kind`` entry to the session's trail and return it.

    A session without a trail gets one first: ``started`` and ``migrated`` entries
    open it themselves; any other entry is preceded by a ``chain_started`` entry
    holding a snapshot of what the session had accepted until then.
    """
    if kind not in ("started", "migrated"):
        open_chain(session, at)
    payload = dict(data or {})
    if kind in ("started", "migrated"):
        payload = {**_snapshot(session), **payload} if kind == "migrated" else payload
        payload["session_id"] = session.session_id
    return _append(session, kind, at, phase, payload)


def _clip(text: Any) -> Any:
    if isinstance(text, str) and len(text) > _MAX_TEXT:
        return text[: _MAX_TEXT - 3] + "..."
    return text


def verification_data(
    session: Session, records: list[dict[str, Any]], verified_at: str
) -> dict[str, Any]:
    """The verification part of an entry: the records (bounded) and their digest."""
    if not records:
        return {}
    data: dict[str, Any] = {
        "verified_at": verified_at,
        "verification_count": len(records),
        "verification_sha256": json_digest(records),
    }
    if len(session.audit) < MAX_DETAILED_ENTRIES:
        data["verification"] = [
            {key: _clip(value) for key, value in record.items()}
            for record in records[:MAX_RECORDS_KEPT]
        ]
    return data


def record_checkpoint(
    session: Session,
    phase: int,
    gate: GateResult,
    report: VerificationReport | None,
    *,
    checkpoint: Checkpoint,
    outcome: str,
    attempt: int,
    evidence_sha256: str,
    at: str,
) -> AuditEntry:
    """Append the entry of a checkpoint decision (``outcome``: passed, passed_with_warnings,
    failed or awaiting_approval)."""
    data: dict[str, Any] = {
        "outcome": outcome,
        "attempt": attempt,
        "evidence_sha256": evidence_sha256,
        "checkpoint_sha256": checkpoint.sha256,
        "missing_evidence": gate.missing_evidence[:20],
        "validation_error_count": gate.error_count,
        "verification_error_count": len(gate.verification_errors),
    }
    if report is not None:
        data.update(verification_data(session, report.records, report.verified_at))
    return append_entry(session, "checkpoint", at=at, phase=phase, data=data)


def record_start(session: Session, stamp: str) -> None:
    """Open a new session's audit trail with what it runs."""
    append_entry(
        session,
        "started",
        at=stamp,
        phase=session.start_phase,
        data={
            "workflow_type": session.workflow_type,
            "workflow_version": session.workflow_version,
            "target_file": session.target_file,
            "start_phase": session.start_phase,
            "total_phases": session.total_phases,
            "options_sha256": json_digest(session.options),
        },
    )


def record_replan(session: Session, changes: list[str], stamp: str) -> None:
    """Record a deliberate re-plan: the new tasks.md digest and what changed."""
    append_entry(
        session,
        "replanned",
        at=stamp,
        data={
            "tasks_sha256": session.plan.sha256 if session.plan else None,
            "total_phases": session.total_phases,
            "changes": changes[:20],
        },
    )


@dataclass(frozen=True)
class TrailProblem:
    """One thing ``verify_trail`` found wrong: in an entry (``entry``) or in the state."""

    entry: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as JSON-ready data."""
        return {"entry": self.entry, "message": self.message}


@dataclass(frozen=True)
class TrailReport:
    """The verdict on a session's audit trail.

    Attributes:
        session_id: The session checked.
        entries: How many entries the trail holds.
        head: The last entry's hash (None without entries).
        problems: Every problem found, the first broken entry first.
    """

    session_id: str
    entries: int
    head: str | None
    problems: list[TrailProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the trail is intact and the record agrees with it."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "session_id": self.session_id,
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "problems": [p.to_dict() for p in self.problems],
        }


def _describe(entry: AuditEntry) -> str:
    phase = f", phase {entry.phase}" if entry.phase is not None else ""
    return f"entry {entry.seq} ({entry.kind}{phase}, {entry.at})"


def _chain_problems(session: Session) -> Iterable[TrailProblem]:
    expected_prev = _genesis(session.session_id)
    for index, entry in enumerate(session.audit):
        name = _describe(entry)
        if entry.seq != index:
            yield TrailProblem(
                index,
                f"entry {index} has seq {entry.seq}: an entry was removed, added or moved here",
            )
        if entry.prev != expected_prev:
            yield TrailProblem(
                index,
                f"{name}: its prev does not match the hash of the entry before it (an entry "
                "before it was removed or replaced, or the chain belongs to another session)",
            )
        if _entry_hash(entry) != entry.hash:
            yield TrailProblem(index, f"{name}: its content does not match its hash: it was edited")
        expected_prev = entry.hash
    if session.audit and session.audit[0].kind not in ("started", "migrated", "chain_started"):
        yield TrailProblem(0, f"the trail starts with a {session.audit[0].kind!r} entry")


def _digests(value: Any) -> dict[int, str]:
    """A snapshot's ``{phase: digest}`` map; malformed items (an edited entry) are left out."""
    if not isinstance(value, dict):
        return {}
    return {int(k): str(v) for k, v in value.items() if isinstance(k, str) and k.isdigit()}


def _replay(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    """Replay the trail: the accepted and the pending evidence digest of each phase."""
    accepted: dict[int, str] = {}
    pending: dict[int, str] = {}
    for entry in session.audit:
        data, phase = entry.data, entry.phase
        if entry.kind in ("started",):
            accepted.clear()
            pending.clear()
        elif entry.kind in ("chain_started", "migrated"):
            accepted = _digests(data.get("artifacts_sha256"))
            pending = _digests(data.get("pending_sha256"))
        elif entry.kind == "checkpoint" and phase is not None:
            outcome, digest = data.get("outcome"), str(data.get("evidence_sha256"))
            if outcome in _ACCEPTED:
                accepted[phase] = digest
            elif outcome == "awaiting_approval":
                pending[phase] = digest
        elif entry.kind == "approval" and phase is not None and phase in pending:
            waited = pending.pop(phase)
            if data.get("decision") == "approved":
                accepted[phase] = waited
        elif entry.kind == "rollback" and phase is not None:
            for known in (accepted, pending):
                for number in [p for p in known if p >= phase]:
                    del known[number]
    return accepted, pending


def _state_problems(session: Session) -> Iterable[TrailProblem]:
    accepted, pending = _replay(session)
    for phase in sorted({*session.completed_phases, *(int(k) for k in session.artifacts)}):
        artifact = session.artifacts.get(str(phase))
        if phase not in accepted:
            yield TrailProblem(
                None,
                f"state: phase {phase} is completed in the record, but no entry of the trail "
                "accepted it",
            )
        elif json_digest(artifact) != accepted[phase]:
            yield TrailProblem(
                None,
                f"state: the accepted evidence of phase {phase} in the record differs from the "
                "evidence the trail accepted (its SHA-256 does not match)",
            )
    for phase in sorted(set(accepted) - set(session.completed_phases)):
        yield TrailProblem(
            None,
            f"state: the trail accepted phase {phase}, but the record does not list it completed",
        )
    waiting = session.status == "awaiting_approval"
    for phase, digest in sorted(pending.items()):
        if not waiting or phase != session.current_phase:
            yield TrailProblem(
                None,
                f"state: the trail has phase {phase} awaiting a person's approval, but the "
                f"record's session is {session.status!r} at phase {session.current_phase}",
            )
        elif json_digest(session.evidence.get(str(phase))) != digest:
            yield TrailProblem(
                None,
                f"state: the evidence awaiting approval for phase {phase} differs from the "
                "evidence the trail recorded",
            )
    if waiting and session.current_phase not in pending:
        yield TrailProblem(
            None,
            f"state: the session is awaiting approval of phase {session.current_phase}, but no "
            "entry of the trail asked for it",
        )


def verify_trail(session: Session) -> TrailReport:
    """Check the session's hash chain and that its record agrees with the chain."""
    if not session.audit:
        problem = TrailProblem(
            None,
            "the session has no audit trail (sessions started before audit trails existed get "
            "one at their next gate decision; a trail that was removed reads the same)",
        )
        return TrailReport(session.session_id, 0, None, [problem])
    problems = list(_chain_problems(session))
    problems.extend(_state_problems(session))
    return TrailReport(session.session_id, len(session.audit), session.audit[-1].hash, problems)
