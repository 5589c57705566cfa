"""The session record and its parts, as stored on disk and exchanged with stores.

The JSON Schema ``specs/session-state.schema.json`` is generated from
:class:`Session` (``python -m pos_engine.schema``) and a test keeps the two equal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SESSION_STATUSES",
    "ApprovalRecord",
    "AttemptStatus",
    "AuditEntry",
    "ErrorRecord",
    "PauseCheckpoint",
    "PhaseAttempt",
    "PlanPhase",
    "PlanRevision",
    "PlanTask",
    "Session",
    "SessionStatus",
    "SessionSummary",
    "SpecPlan",
    "utc_now",
]

SessionStatus = Literal["active", "paused", "completed", "failed", "awaiting_approval"]
"""Lifecycle states of a session.

- ``active``: the agent is working on ``current_phase``.
- ``paused``: parked by ``pause``; only ``resume`` (or delete) moves it on.
- ``completed``: the last phase's checkpoint passed.
- ``failed``: the current phase's checkpoint failed; retry, roll back or submit new evidence.
- ``awaiting_approval``: the current phase's evidence passed and a person must approve it
  (``pos-workflow approve``) or reject it (``pos-workflow reject``); the agent waits.
"""

AttemptStatus = Literal["in_progress", "passed", "failed", "rolled_back", "rejected"]

SESSION_STATUSES: tuple[SessionStatus, ...] = (
    "active",
    "paused",
    "completed",
    "failed",
    "awaiting_approval",
)

SCHEMA_VERSION = 1


def utc_now() -> str:
    """Return the current time as a UTC ISO 8601 string (``+00:00`` offset, microseconds)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class PhaseAttempt(_Record):
    """One attempt at one phase, appended to ``phase_history``.

    ``status`` is ``in_progress`` while the agent works (and while its evidence awaits
    a person's approval), ``passed`` or ``failed`` after a checkpoint, ``rejected`` when
    a person rejected its evidence, and ``rolled_back`` when a rollback abandoned it.
    """

    phase: int
    attempt: int = Field(ge=1)
    started_at: str
    completed_at: str | None = None
    duration_seconds: float | None = None
    status: AttemptStatus = "in_progress"


class ErrorRecord(_Record):
    """An error recorded against a session (a failed checkpoint, for example)."""

    phase: int
    timestamp: str
    error_type: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    remediation: str


class PauseCheckpoint(_Record):
    """Where and why a session was paused."""

    phase: int
    timestamp: str
    note: str | None = None


class PlanTask(_Record):
    """One task of a spec's tasks.md, as parsed and frozen into a session's plan.

    ``id`` is the spec's ``<phase>.<n>`` id; ``number`` is ``n``, the task_number
    get_task takes. ``acceptance_criteria`` are the task's checklist items in order
    (evidence answers them as ``c1``, ``c2``, ...). ``body`` is the task's markdown
    as written in the spec (without its title line).
    """

    id: str
    number: int = Field(ge=1)
    title: str
    line: int = Field(ge=1)
    priority: str = ""
    estimate: str = ""
    dependencies: str = ""
    depends_on: list[str] = Field(default_factory=list)
    description: str = ""
    steps: list[str] = Field(default_factory=list)
    acceptance_criteria: list[str] = Field(default_factory=list)
    validation_command: str | None = None
    checked: bool | None = None
    body: str = ""


class PlanPhase(_Record):
    """One ``## Phase N: Name`` section of a spec's tasks.md.

    ``number`` is the spec's phase number (1, 2, ...); the session serves it as
    phase ``plan.phase_offset + number``. ``validation_gate`` holds the items of
    the phase's "Validation Gate" checklist (evidence answers them as ``g1``, ...).
    """

    number: int = Field(ge=1)
    title: str
    name: str
    line: int = Field(ge=1)
    timeframe: str = ""
    objective: str = ""
    estimate: str = ""
    dependencies: str = ""
    deliverables: list[str] = Field(default_factory=list)
    validation_gate: list[str] = Field(default_factory=list)
    tasks: list[PlanTask] = Field(default_factory=list)


class PlanRevision(_Record):
    """A deliberate re-plan: when, from which tasks.md content, and what changed."""

    at: str
    sha256: str
    changes: list[str] = Field(default_factory=list)


class SpecPlan(_Record):
    """The phases a dynamic workflow derived from a spec, frozen into the session.

    Attributes:
        spec_path: The spec folder, relative to the project.
        tasks_file: The parsed file, relative to ``spec_path`` (``tasks.md``).
        sha256: Digest of the tasks.md content the plan was parsed from.
        found_by: How the spec was found (``options.spec_path``, ``target_file``,
            ``evidence.spec_path``, a moved folder, a ``--spec-map`` entry).
        phase_offset: Added to a spec phase number to give the session phase.
        findings: What the parser noticed but accepted (a phase without a
            validation gate, a task without acceptance criteria, ...).
        revisions: Every deliberate re-plan after the first.
    """

    spec_path: str
    tasks_file: str = "tasks.md"
    sha256: str
    title: str = ""
    found_by: str = ""
    phase_offset: int = Field(default=0, ge=0)
    planned_at: str
    phases: list[PlanPhase] = Field(min_length=1)
    findings: list[str] = Field(default_factory=list)
    revisions: list[PlanRevision] = Field(default_factory=list)

    @property
    def task_count(self) -> int:
        """How many tasks the plan holds."""
        return sum(len(phase.tasks) for phase in self.phases)

    def session_phase(self, spec_phase: int) -> int:
        """Return the session phase that serves spec phase ``spec_phase``."""
        return self.phase_offset + spec_phase


class ApprovalRecord(_Record):
    """A person's approval of the current phase: requested, or rejected with a reason.

    Set when a phase whose checkpoint requires approval passes its evidence
    (``status`` ``pending``); a rejection keeps it (``rejected``, with who, when and
    why) until the phase's evidence is submitted again; an approval clears it (the
    audit trail keeps every decision).
    """

    phase: int
    status: Literal["pending", "rejected"] = "pending"
    prompt: str
    requested_at: str
    evidence_sha256: str
    decided_at: str | None = None
    decided_by: str | None = None
    reason: str | None = None


class AuditEntry(_Record):
    """One entry of a session's hash-chained audit trail (see ``pos_engine._audit``).

    ``hash`` is the SHA-256 of the entry's canonical JSON without ``hash``, which
    includes ``prev``, the previous entry's hash (for the first entry, a value
    derived from the session id): editing, removing or reordering an entry breaks
    the chain at that entry. ``kind`` is one of ``started``, ``migrated``,
    ``chain_started``, ``checkpoint``, ``approval``, ``rollback`` and ``replanned``;
    it is kept a plain string so that a tampered entry still loads and
    ``verify-session`` can name it.
    """

    seq: int = Field(ge=0)
    at: str
    kind: str
    phase: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    prev: str
    hash: str


class Session(_Record):
    """The durable state of one workflow run.

    Phase-keyed maps (``artifacts``, ``evidence``) use the phase number as a
    string key, because JSON object keys are strings. ``dynamic`` marks a session
    of a dynamic workflow; its ``plan`` is set once its phases are derived from a
    spec (at start, or when its planning phase completes), and every action reads
    phases from it, so editing the spec never changes a running session.
    ``approval`` is the pending (or rejected) approval of the current phase, and
    ``audit`` the hash-chained record of every gate decision.
    """

    schema_version: int = SCHEMA_VERSION
    session_id: str
    workflow_type: str
    workflow_version: str = ""
    target_file: str
    status: SessionStatus = "active"
    start_phase: int = Field(ge=0)
    current_phase: int = Field(ge=0)
    total_phases: int = Field(ge=1)
    completed_phases: list[int] = Field(default_factory=list)
    created_at: str
    updated_at: str
    completed_at: str | None = None
    paused_at: str | None = None
    paused_seconds_total: float = 0.0
    checkpoint: PauseCheckpoint | None = None
    checkpoint_note: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    evidence: dict[str, dict[str, Any]] = Field(default_factory=dict)
    phase_history: list[PhaseAttempt] = Field(default_factory=list)
    errors: list[ErrorRecord] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    dynamic: bool = False
    plan: SpecPlan | None = None
    approval: ApprovalRecord | None = None
    audit: list[AuditEntry] = Field(default_factory=list)
    version: int = Field(default=0, ge=0)

    @property
    def last_phase(self) -> int:
        """The number of the workflow's final phase."""
        return self.start_phase + self.total_phases - 1

    def summary(self) -> SessionSummary:
        """Return the cheap summary used by ``list_sessions``."""
        return SessionSummary(
            session_id=self.session_id,
            workflow_type=self.workflow_type,
            target_file=self.target_file,
            current_phase=self.current_phase,
            total_phases=self.total_phases,
            status=self.status,
            created_at=self.created_at,
            last_updated=self.updated_at,
        )


class SessionSummary(_Record):
    """The fields ``list_sessions`` returns for each session."""

    session_id: str
    workflow_type: str
    target_file: str
    current_phase: int
    total_phases: int
    status: SessionStatus
    created_at: str
    last_updated: str
