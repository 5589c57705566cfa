"""The session state machine: which status allows which action.

States: ``active``, ``paused``, ``completed``, ``failed``, ``awaiting_approval``
(see SessionStatus). Transitions: active -> paused (pause), paused -> active (resume),
active -> completed (last checkpoint passed), active -> failed (checkpoint
failed), failed -> active (retry_phase, rollback, or a new complete_phase
attempt), completed -> active (rollback); active or failed -> awaiting_approval (the
checkpoint of a phase that needs approval passed), awaiting_approval -> active or
completed (a person approves: ``pos-workflow approve``), awaiting_approval -> active
(a person rejects: the phase reopens); delete from any state. No action of the
tool leaves ``awaiting_approval``: only a person does.
"""

from __future__ import annotations

from ._models import Session, SessionStatus
from .exceptions import StateError

__all__ = ["NEXT_ACTIONS", "next_actions", "require_status"]

NEXT_ACTIONS: dict[SessionStatus, tuple[str, ...]] = {
    "active": (
        "get_phase",
        "get_task",
        "complete_phase",
        "get_state",
        "pause",
        "retry_phase",
        "rollback",
        "get_errors",
        "get_session",
        "delete_session",
    ),
    "paused": ("resume", "get_state", "get_session", "get_errors", "delete_session"),
    "completed": ("get_state", "get_session", "get_errors", "rollback", "delete_session", "start"),
    "failed": (
        "get_errors",
        "retry_phase",
        "complete_phase",
        "rollback",
        "get_phase",
        "get_task",
        "get_state",
        "get_session",
        "delete_session",
    ),
    "awaiting_approval": (
        "get_state",
        "get_phase",
        "get_session",
        "get_errors",
        "get_task",
        "delete_session",
    ),
}

# What to do next, by the state the session is in (not the state the action wants).
_WAY_OUT: dict[SessionStatus, str] = {
    "active": "The session is already active: carry on with get_phase, get_task and complete_phase",
    "paused": "Resume the session first",
    "completed": "The workflow is finished: rollback to reopen a phase, or start a new session",
    "failed": "Call retry_phase, or send new evidence with complete_phase for the current phase",
    "awaiting_approval": "The session waits for a person to approve or reject its current phase "
    "(pos-workflow approve or reject, outside the tool): tell the user, and check get_state "
    "later",
}


def next_actions(status: SessionStatus) -> list[str]:
    """Return the actions that make sense for a session in ``status``, most useful first."""
    return list(NEXT_ACTIONS[status])


def require_status(session: Session, allowed: tuple[SessionStatus, ...], action: str) -> None:
    """Raise StateError unless the session's status is one of ``allowed``.

    The message names the current state, what ``action`` needs, and the moves
    available from where the session is.
    """
    if session.status in allowed:
        return
    needed = " or ".join(repr(s) for s in allowed)
    moves = ", ".join(next_actions(session.status))
    raise StateError(
        f"{action} needs a session that is {needed}, but session {session.session_id!r} "
        f"is {session.status!r}",
        remediation=f"{_WAY_OUT[session.status]}. Allowed from {session.status!r}: {moves}.",
        details={"session_status": session.status, "allowed_actions": next_actions(session.status)},
    )
