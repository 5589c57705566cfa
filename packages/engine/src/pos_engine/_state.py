"""Session management: list, inspect, delete, pause, resume and error history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from ._content import phase_content
from ._definitions import WorkflowRegistry
from ._dynamic import plan_summary, workflow_of_session
from ._gates_config import load_gate_settings, with_project_approvals
from ._lifecycle import next_actions, require_status
from ._models import PauseCheckpoint, Session, SessionSummary
from ._params import (
    MAX_CURSOR_CHARS,
    require_optional_str,
    require_page_size,
    require_status_filter,
)
from ._store import SessionStore
from .guards import validate_session_id

__all__ = ["Clock", "StateManager"]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# One adapter call dumps a whole listing in pydantic's core: 4x faster than a
# model_dump() per summary, which matters with 10,000 sessions.
_SUMMARIES = TypeAdapter(list[SessionSummary])
_AUDIT_SHOWN = 5


def _system_clock() -> datetime:
    return datetime.now(UTC)


def seconds_between(start: str, end: datetime) -> float:
    """Return the seconds from the ISO timestamp ``start`` to ``end`` (never negative)."""
    return max(0.0, round((end - datetime.fromisoformat(start)).total_seconds(), 3))


class StateManager:
    """Owns session records: the management half of the 14 actions.

    Args:
        store: Where sessions live.
        registry: The workflow definitions, used to render phase content on resume.
        clock: Source of the current UTC time (tests pass a fake one).
    """

    def __init__(
        self, store: SessionStore, registry: WorkflowRegistry, *, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock: Clock = clock or _system_clock

    def now(self) -> datetime:
        """Return the current UTC time."""
        return self.clock()

    def stamp(self) -> str:
        """Return the current UTC time as an ISO 8601 string."""
        return self.now().isoformat(timespec="microseconds")

    def load(self, session_id: object) -> Session:
        """Validate ``session_id`` and return the stored session (a private copy)."""
        return self.store.load(validate_session_id(session_id))

    def peek(self, session_id: object) -> Session:
        """Validate ``session_id`` and return the stored session for reading only.

        It may be shared with the store's cache: neither it nor anything taken from
        it (artifacts, lists) may be changed, in the answer built from it either.
        """
        return self.store.peek(validate_session_id(session_id))

    def list_sessions(
        self, status: object = None, limit: object = None, cursor: object = None
    ) -> dict[str, Any]:
        """List one page of sessions, newest first, optionally only those in ``status``.

        Args:
            status: Only sessions in this status (None: all).
            limit: Page size, 1 to 500 (None: 50).
            cursor: A previous page's ``next_cursor``: continue after it (None: from the newest).
        """
        wanted = require_status_filter(status)
        size = require_page_size(limit)
        after = require_optional_str("cursor", cursor, max_chars=MAX_CURSOR_CHARS)
        page = self.store.list_page(wanted, limit=size, cursor=after)
        sessions = _SUMMARIES.dump_python(page.summaries)
        result: dict[str, Any] = {
            "sessions": sessions,
            "count": len(sessions),
            "total": page.total,
            "next_cursor": page.next_cursor,
            "limit": size,
            "status_filter": wanted,
            "next_actions": ["get_session", "get_state", "start"]
            + (["list_sessions"] if page.next_cursor else []),
        }
        corrupt = self.store.corrupt_ids()
        if corrupt:
            result["unreadable_sessions"] = corrupt
        return result

    def get_session(self, session_id: object) -> dict[str, Any]:
        """Return one session in full: history, options, errors, artifacts."""
        session = self.peek(session_id)
        data = session.model_dump(mode="json", exclude={"evidence", "plan", "audit"})
        # The trail can be long: its size, head and latest entries (verify-session checks it).
        data["audit"] = {
            "entries": len(session.audit),
            "head": session.audit[-1].hash if session.audit else None,
            "latest": [e.model_dump(mode="json") for e in session.audit[-_AUDIT_SHOWN:]],
        }
        data["last_updated"] = data.pop("updated_at")
        data["evidence_phases"] = sorted(int(k) for k in session.evidence)
        if session.plan is not None:
            # The summary, not the whole plan: get_phase and get_task serve its phases and tasks.
            data["plan"] = plan_summary(session)
        return {
            "session_id": session.session_id,
            "session": data,
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }

    def delete_session(self, session_id: object, reason: object = None) -> dict[str, Any]:
        """Delete a session; deleting a missing one reports ``deleted: false``, not an error."""
        sid = validate_session_id(session_id)
        note = require_optional_str("reason", reason)
        existed = self.store.delete(sid)
        logger.info("delete_session %s existed=%s reason=%r", sid, existed, note)
        return {
            "session_id": sid,
            "deleted": existed,
            "reason": note,
            "cleanup": {"state_file_removed": existed, "lock_released": True},
            "next_actions": ["list_sessions", "start"],
        }

    def pause_session(self, session_id: object, note: object = None) -> dict[str, Any]:
        """Pause an active session, recording where and why."""
        sid = validate_session_id(session_id)
        text = require_optional_str("checkpoint_note", note)

        def pause(session: Session) -> Session:
            require_status(session, ("active",), "pause")
            stamp = self.stamp()
            session.status = "paused"
            session.paused_at = stamp
            session.updated_at = stamp
            session.checkpoint = PauseCheckpoint(
                phase=session.current_phase, timestamp=stamp, note=text
            )
            session.checkpoint_note = text
            return session

        session = self.store.update(sid, pause)
        assert session.checkpoint is not None  # noqa: S101 - set by pause()
        return {
            "session_id": sid,
            "paused": True,
            "checkpoint": session.checkpoint.model_dump(),
            "current_phase": session.current_phase,
            "resume_capable": True,
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }

    def resume_session(self, session_id: object) -> dict[str, Any]:
        """Resume a paused session; report how long it was paused and where to go on."""
        sid = validate_session_id(session_id)
        paused_for: list[float] = []

        def resume(session: Session) -> Session:
            require_status(session, ("paused",), "resume")
            now = self.now()
            seconds = seconds_between(session.paused_at or session.updated_at, now)
            paused_for.append(seconds)
            session.status = "active"
            session.paused_seconds_total = round(session.paused_seconds_total + seconds, 3)
            session.paused_at = None
            session.updated_at = now.isoformat(timespec="microseconds")
            return session

        session = self.store.update(sid, resume)
        definition = with_project_approvals(
            workflow_of_session(self.registry.get(session.workflow_type), session),
            load_gate_settings(self.registry.project_root),
        )
        return {
            "session_id": sid,
            "resumed": True,
            "current_phase": session.current_phase,
            "total_phases": session.total_phases,
            "paused_duration_seconds": paused_for[-1],
            "checkpoint_note": session.checkpoint_note,
            "phase_content": phase_content(definition, session),
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }

    def get_errors(self, session_id: object) -> dict[str, Any]:
        """Return every error recorded against the session, oldest first."""
        session = self.peek(session_id)
        errors = [e.model_dump() for e in session.errors]
        return {
            "session_id": session.session_id,
            "errors": errors,
            "error_count": len(errors),
            "last_error": errors[-1] if errors else None,
            "last_error_at": errors[-1]["timestamp"] if errors else None,
            "session_status": session.status,
            "next_actions": next_actions(session.status),
        }
