"""Phase attempts and progress: the moves every gate decision makes on a session.

Shared by the checkpoint (``_engine``) and a person's approval (``_approval``), so
that a phase passes the same way whoever lets it through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._models import AttemptStatus, PhaseAttempt, Session
from ._state import seconds_between

__all__ = ["advance", "close_attempt", "current_attempt", "open_attempt"]


def open_attempt(session: Session, phase: int, stamp: str) -> PhaseAttempt:
    """Append a new attempt at ``phase`` to the session's history and return it."""
    attempt = 1 + sum(1 for a in session.phase_history if a.phase == phase)
    record = PhaseAttempt(phase=phase, attempt=attempt, started_at=stamp)
    session.phase_history.append(record)
    return record


def current_attempt(session: Session, stamp: str) -> PhaseAttempt:
    """Return the open attempt at the current phase, opening one if none is open."""
    for record in reversed(session.phase_history):
        if record.phase == session.current_phase and record.status == "in_progress":
            return record
    return open_attempt(session, session.current_phase, stamp)


def close_attempt(record: PhaseAttempt, status: AttemptStatus, stamp: str) -> None:
    """Close ``record`` with ``status`` at ``stamp``, with its duration."""
    record.status = status
    record.completed_at = stamp
    record.duration_seconds = seconds_between(record.started_at, datetime.fromisoformat(stamp))


def advance(session: Session, number: int, payload: dict[str, Any], stamp: str) -> None:
    """Record phase ``number`` as passed and move to the next phase (or finish)."""
    session.artifacts[str(number)] = payload
    session.completed_phases = sorted({*session.completed_phases, number})
    if number == session.last_phase:
        session.status = "completed"
        session.completed_at = stamp
    else:
        session.status = "active"
        session.current_phase = number + 1
        open_attempt(session, session.current_phase, stamp)
