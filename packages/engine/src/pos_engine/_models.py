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
    "AttemptStatus",
    "ErrorRecord",
    "PauseCheckpoint",
    "PhaseAttempt",
    "Session",
    "SessionStatus",
    "SessionSummary",
    "utc_now",
]

SessionStatus = Literal["active", "paused", "completed", "failed"]
"""Lifecycle states of a session.

- ``active``: the agent is working on ``current_phase``.
- ``paused``: parked by ``pause``; only ``resume`` (or delete) moves it on.
- ``completed``: the last phase's checkpoint passed.
- ``failed``: the current phase's checkpoint failed; retry, roll back or submit new evidence.
"""

AttemptStatus = Literal["in_progress", "passed", "failed", "rolled_back"]

SESSION_STATUSES: tuple[SessionStatus, ...] = ("active", "paused", "completed", "failed")

SCHEMA_VERSION = 1


def utc_now() -> str:
    """Return the current time as a UTC ISO 8601 string (``+00:00`` offset, microseconds)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class PhaseAttempt(_Record):
    """One attempt at one phase, appended to ``phase_history``.

    ``status`` is ``in_progress`` while the agent works, ``passed`` or ``failed``
    after a checkpoint, and ``rolled_back`` when a rollback abandoned it.
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


class Session(_Record):
    """The durable state of one workflow run.

    Phase-keyed maps (``artifacts``, ``evidence``) use the phase number as a
    string key, because JSON object keys are strings.
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
