"""The session store contract every backend implements.

Required operations are abstract; everything else has a default built on them.
Every backend must pass ``pos_engine.testing.conformance`` unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from ._models import Session, SessionStatus, SessionSummary

__all__ = ["SessionStore", "Updater"]

Updater = Callable[[Session], Session | None]
"""A function that receives the current session and returns the changed one.

It may mutate and return its argument, return a new object, or return ``None``
to mean "no change" (nothing is written and the version does not rise). It may
raise a :class:`~pos_engine.exceptions.PosError` to abort the update, in which
case nothing is written.
"""


class SessionStore(ABC):
    """Durable storage of :class:`Session` records.

    Contract:
    - ``create`` writes a new session at version 1 and raises ``ConflictError``
      when the id exists.
    - ``update`` is an atomic read-modify-write: no concurrent update (from this
      or another process) is lost, and the version rises by exactly one per write.
    - A crash at any moment leaves the old or the new record, never a broken one.
    - A record that cannot be read raises ``CorruptSessionError`` for that id only;
      ``list_summaries`` skips it (and reports it through ``corrupt_ids``).
    """

    kind: ClassVar[str] = "abstract"

    def setup(self) -> None:  # noqa: B027 - optional hook, idempotent by contract
        """Prepare the backend (folders, tables, recovery). Safe to call repeatedly."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources held by the backend."""

    @abstractmethod
    def create(self, session: Session) -> Session:
        """Store a new session; return it as stored (version 1).

        Raises:
            ConflictError: a session with this id exists.
        """

    @abstractmethod
    def load(self, session_id: str) -> Session:
        """Return the stored session.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the record exists but cannot be read.
        """

    @abstractmethod
    def update(self, session_id: str, updater: Updater) -> Session:
        """Apply ``updater`` atomically and return the session as stored after it.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the record cannot be read.
        """

    @abstractmethod
    def delete(self, session_id: str) -> bool:
        """Remove the session; return whether it existed."""

    @abstractmethod
    def list_summaries(self, status: SessionStatus | None = None) -> list[SessionSummary]:
        """Return the summary of every readable session, newest first, optionally filtered."""

    def exists(self, session_id: str) -> bool:
        """Return whether a session with this id is stored."""
        return any(s.session_id == session_id for s in self.list_summaries())

    def corrupt_ids(self) -> list[str]:
        """Return the ids of stored records that could not be read at the last listing."""
        return []

    def count_by_status(self) -> dict[str, int]:
        """Return how many sessions are in each status."""
        counts = {"active": 0, "paused": 0, "completed": 0, "failed": 0}
        for summary in self.list_summaries():
            counts[summary.status] += 1
        return counts
