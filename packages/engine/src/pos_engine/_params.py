"""Type checks for engine parameters that arrive from untrusted clients."""

from __future__ import annotations

from typing import Any

from ._models import SESSION_STATUSES, SessionStatus
from .exceptions import ValidationError

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_CURSOR_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_PAGE_SIZE",
    "require_dict",
    "require_int",
    "require_optional_str",
    "require_page_size",
    "require_status_filter",
]

MAX_NOTE_CHARS = 2000
"""Longest free-text note accepted (a delete reason, a pause note), in characters."""

MAX_CURSOR_CHARS = 1024
"""Longest list_sessions cursor accepted (the stores' cursors are far shorter)."""

DEFAULT_PAGE_SIZE = 50
"""Sessions per list_sessions page when the call names no limit."""

MAX_PAGE_SIZE = 500
"""Most sessions one list_sessions page may hold: an answer an agent can take in."""


def require_int(name: str, value: object) -> int:
    """Return ``value`` if it is an integer (booleans are not), else raise ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{name} must be an integer, got {type(value).__name__} {value!r:.60}",
            remediation=f"Pass {name} as a whole number, for example {name}=1.",
        )
    return value


def require_dict(name: str, value: object) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object with string keys, else raise ValidationError."""
    if not isinstance(value, dict):
        raise ValidationError(
            f"{name} must be a JSON object, got {type(value).__name__}",
            remediation=f'Pass {name} as an object, for example {name}={{"name": "value"}}.',
        )
    for key in value:
        if not isinstance(key, str):
            raise ValidationError(
                f"{name} must be a JSON object with text keys; key {str(key)[:40]!r} is "
                f"{type(key).__name__}",
                remediation=f'Pass {name} with string keys, for example {name}={{"name": "value"}}.',
            )
    return value


def require_optional_str(name: str, value: object, max_chars: int = MAX_NOTE_CHARS) -> str | None:
    """Return ``value`` if it is None or a string of at most ``max_chars``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            f"{name} must be a string, got {type(value).__name__}",
            remediation=f"Pass {name} as text or leave it out.",
        )
    if len(value) > max_chars:
        raise ValidationError(
            f"{name} is {len(value)} characters long; the limit is {max_chars}",
            remediation=f"Shorten {name} to at most {max_chars} characters.",
        )
    return value


def require_status_filter(value: object) -> SessionStatus | None:
    """Return a valid session status filter (or None for no filter)."""
    if value is None:
        return None
    for status in SESSION_STATUSES:
        if value == status:
            return status
    raise ValidationError(
        f"status {value!r:.60} is not a session status; use one of {', '.join(SESSION_STATUSES)}",
        remediation=f"Pass status as {', '.join(SESSION_STATUSES[:-1])} or "
        f"{SESSION_STATUSES[-1]}, or leave it out.",
        details={"allowed": list(SESSION_STATUSES)},
    )


def require_page_size(value: object) -> int:
    """Return a list_sessions page size: :data:`DEFAULT_PAGE_SIZE` for None, else 1 to 500."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {value!r:.60}",
            remediation=f"Pass a page size from 1 to {MAX_PAGE_SIZE} ({DEFAULT_PAGE_SIZE} when "
            "left out), and follow next_cursor for the following pages.",
            details={"parameter": "limit", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        )
    return value
