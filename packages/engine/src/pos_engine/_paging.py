"""Keyset paging over the session listing: the page type and its opaque cursor.

A listing runs newest ``created_at`` first, ties by ``session_id`` descending. A
cursor names the last session of a page by that key, so the next page starts just
after it even while sessions are added or removed meanwhile: no session is shown
twice and none that existed throughout is skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from ._models import SessionSummary
from .exceptions import ValidationError

__all__ = [
    "SessionPage",
    "decode_cursor",
    "encode_cursor",
    "listing_key",
    "page_request",
    "require_limit",
]

_CURSOR_VERSION = 1


@dataclass(frozen=True)
class SessionPage:
    """One page of the session listing.

    Attributes:
        summaries: The sessions of this page, newest ``created_at`` first.
        total: How many sessions the whole listing holds (with the same filter).
        next_cursor: Pass it as ``cursor`` to get the next page; None on the last page.
    """

    summaries: list[SessionSummary]
    total: int
    next_cursor: str | None

    @classmethod
    def of(cls, summaries: list[SessionSummary], *, total: int, more: bool) -> SessionPage:
        """The page holding ``summaries``, with a ``next_cursor`` when ``more`` sessions follow.

        Args:
            summaries: The page's sessions, in listing order.
            total: How many sessions the whole (filtered) listing holds.
            more: Sessions follow the page's last one.
        """
        next_cursor = encode_cursor(summaries[-1]) if more and summaries else None
        return cls(summaries, total, next_cursor)


def listing_key(summary: SessionSummary) -> tuple[str, str]:
    """The key a listing is sorted by (descending): ``(created_at, session_id)``."""
    return (summary.created_at, summary.session_id)


def encode_cursor(summary: SessionSummary) -> str:
    """Return the opaque cursor that continues a listing after ``summary``."""
    raw = json.dumps([_CURSOR_VERSION, summary.created_at, summary.session_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Return the listing key a cursor continues after.

    Raises:
        ValidationError: ``cursor`` is not a cursor that :func:`encode_cursor` made.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        version, created_at, session_id = data
        if version != _CURSOR_VERSION or not isinstance(created_at, str):
            raise ValueError("unknown cursor version")
        if not isinstance(session_id, str):
            raise ValueError("bad session id")
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        raise ValidationError(
            f"cursor {cursor[:80]!r} is not a cursor of this listing",
            remediation="Pass the next_cursor of the previous page unchanged, or leave cursor "
            "out to start from the newest session.",
            details={"parameter": "cursor"},
        ) from None
    return created_at, session_id


def require_limit(limit: object) -> int:
    """Return ``limit`` if it is a positive int.

    Raises:
        ValidationError: anything else.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError(
            f"limit must be a positive integer, got {limit!r}",
            remediation="Pass a page size of 1 or more (50 by default).",
            details={"parameter": "limit"},
        )
    return limit


def page_request(limit: object, cursor: str | None) -> tuple[int, tuple[str, str] | None]:
    """Check one ``list_page`` request: its page size, and the listing key it starts after.

    Every store's ``list_page`` starts here, so they all refuse the same requests alike.

    Returns:
        ``limit``, and the key of the previous page's last session (None: the newest first).

    Raises:
        ValidationError: ``limit`` is not a positive int, or ``cursor`` is not a cursor.
    """
    return require_limit(limit), (decode_cursor(cursor) if cursor is not None else None)
