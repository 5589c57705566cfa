"""The session store contract every backend implements.

Required operations are abstract; everything else has a default built on them.
Every backend must pass ``pos_engine.testing.conformance`` unchanged.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

import pydantic

from ._models import SESSION_STATUSES, Session, SessionStatus, SessionSummary, utc_now
from ._nonblocking import require_io
from ._paging import SessionPage, listing_key, page_request
from ._snapshot import RestoreReport, SessionSnapshot
from .exceptions import CorruptSessionError, NotFoundError, ValidationError

__all__ = [
    "SchemaMigration",
    "SessionStore",
    "Updater",
    "model_problem",
    "require_stored_version",
]

Updater = Callable[[Session], Session | None]
"""A function that receives the current session and returns the changed one.

It may mutate and return its argument, return a new object, or return ``None``
to mean "no change" (nothing is written and the version does not rise). It may
raise a :class:`~pos_engine.exceptions.PosError` to abort the update, in which
case nothing is written.
"""


def model_problem(exc: pydantic.ValidationError) -> str:
    """Say why a stored record is not a session: for a store's CorruptSessionError message."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    return (
        f"does not match the session model ({exc.error_count()} problem(s), first at {where}: "
        f"{first['msg']})"
    )


def require_stored_version(session: Session) -> None:
    """Check that ``session`` carries a version a store can hold as is (1 or more).

    Raises:
        ValidationError: the version is 0, as on a session never stored.
    """
    if session.version < 1:
        raise ValidationError(
            f"session {session.session_id!r} has version {session.version}: only stored "
            "records (version 1 or more) can be imported",
            remediation="Import a session as a store returned it, or create it with create().",
        )


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
    - ``import_session`` stores a record exactly as given, version included: copies,
      snapshots and restores between stores are built on it.

    Lifecycle: open a backend (``from_url``, ``from_project``), call :meth:`setup` once
    to create or migrate what it needs (idempotent), :meth:`check_ready` before serving,
    and :meth:`close` at the end.
    """

    kind: ClassVar[str] = "abstract"
    nonblocking_reads: ClassVar[bool] = False
    """Whether :meth:`peek` and :meth:`list_page` honour ``pos_engine.nonblocking()``: answer
    from memory or raise ``WouldBlock``, never wait for I/O. A server answers read actions on
    its event loop only over a store that says so; others always run in a worker thread."""

    def setup(self) -> None:  # noqa: B027 - optional hook, idempotent by contract
        """Prepare the backend (folders, tables, recovery). Safe to call repeatedly."""

    def migrate(self) -> SchemaMigration:
        """Bring the backend's schema up to date (as :meth:`setup`) and say what changed.

        Backends without a versioned schema run :meth:`setup` and report no versions.
        """
        self.setup()
        return SchemaMigration(before=None, after=None, applied=())

    def check_ready(self) -> None:  # noqa: B027 - optional hook
        """Check that the backend can serve sessions now; raise if it cannot.

        Raises:
            StoreUnavailableError: the backend is unreachable, or its schema is missing,
                older than this code needs (run ``pos-workflow store migrate``) or newer.
        """

    def describe(self) -> str:
        """Say where the sessions live, without secrets (for logs and messages)."""
        return self.kind

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources held by the backend."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    def peek(self, session_id: str) -> Session:
        """Return the stored session for reading only: it may be shared, never change it.

        Read actions use it; a backend may answer from a cache it keeps coherent with
        the stored record. The default is :meth:`load`.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the record exists but cannot be read.
            WouldBlock: inside ``pos_engine.nonblocking()``, when the answer needs I/O.
        """
        require_io()
        return self.load(session_id)

    @abstractmethod
    def update(self, session_id: str, updater: Updater) -> Session:
        """Apply ``updater`` atomically and return the session as stored after it.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the record cannot be read.
        """

    @abstractmethod
    def import_session(self, session: Session, *, replace: bool = False) -> bool:
        """Store ``session`` exactly as given, its version included.

        The primitive under copies between stores, snapshots and restores; the engine's
        own writes use :meth:`create` and :meth:`update`.

        Args:
            session: The record to store; its ``version`` must be 1 or more.
            replace: Overwrite an existing record of the same id. Without it an
                existing record (readable or not) is left as it is.

        Returns:
            Whether the record was written.

        Raises:
            ValidationError: the session's version is below 1 or its id is not valid.
        """

    @abstractmethod
    def delete(self, session_id: str) -> bool:
        """Remove the session; return whether it existed."""

    @abstractmethod
    def list_summaries(self, status: SessionStatus | None = None) -> list[SessionSummary]:
        """Return the summary of every readable session, newest first, optionally filtered."""

    def list_page(
        self,
        status: SessionStatus | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> SessionPage:
        """Return one page of the listing, in :meth:`list_summaries` order.

        Keyset paging: ``cursor`` (a previous page's ``next_cursor``) names the last
        session shown, and the page starts right after it, so sessions added or
        removed meanwhile never make a page repeat or skip one that stayed. This
        default pages over :meth:`list_summaries`; backends with an index override it.

        Args:
            status: Only sessions in this status.
            limit: At most this many sessions (1 or more).
            cursor: Continue after the page that returned it; None starts at the newest.

        Raises:
            ValidationError: ``limit`` is not a positive int, or ``cursor`` is not a cursor.
        """
        size, after = page_request(limit, cursor)
        listing = self.list_summaries(status)
        start = 0
        if after is not None:
            # The listing descends, so "comes after the cursor" is False...False, True...True.
            start = bisect.bisect_left(listing, True, key=lambda s: listing_key(s) < after)
        page = listing[start : start + size]
        return SessionPage.of(page, total=len(listing), more=start + size < len(listing))

    def load_many(self, session_ids: Iterable[str]) -> tuple[dict[str, Session], list[str]]:
        """Load several sessions at once.

        Returns:
            The stored sessions by id (missing ids are left out), and the ids whose
            record exists but cannot be read.
        """
        found: dict[str, Session] = {}
        unreadable: list[str] = []
        for session_id in dict.fromkeys(session_ids):
            try:
                found[session_id] = self.load(session_id)
            except NotFoundError:
                continue
            except CorruptSessionError:
                unreadable.append(session_id)
        return found, unreadable

    def exists(self, session_id: str) -> bool:
        """Return whether a session with this id is stored."""
        return any(s.session_id == session_id for s in self.list_summaries())

    def corrupt_ids(self) -> list[str]:
        """Return the ids of stored records that could not be read at the last listing."""
        return []

    def count_by_status(self) -> dict[str, int]:
        """Return how many sessions are in each status."""
        counts: dict[str, int] = dict.fromkeys(SESSION_STATUSES, 0)
        for summary in self.list_summaries():
            counts[summary.status] = counts.get(summary.status, 0) + 1
        return counts

    def count_by_kind(self) -> Counter[tuple[str, str]]:
        """Return how many sessions there are of each ``(status, workflow_type)``.

        Monitoring samples it every minute; backends with an index override it.
        """
        return Counter((s.status, s.workflow_type) for s in self.list_summaries())

    # -- snapshots -----------------------------------------------------------------------

    def snapshot(self, session_ids: Iterable[str]) -> SessionSnapshot:
        """Record the stored state of these sessions: each record, or that there is none.

        Each record is read atomically; for a point-in-time image of several
        sessions, stop the writers first (the cutover holds its lock).
        """
        ids = list(dict.fromkeys(session_ids))
        found, unreadable = self.load_many(ids)
        skipped = set(unreadable)
        return SessionSnapshot(
            records={sid: found.get(sid) for sid in ids if sid not in skipped},
            taken_at=utc_now(),
            unreadable=tuple(unreadable),
        )

    def restore(self, snapshot: SessionSnapshot) -> RestoreReport:
        """Put the snapshot's sessions back as they were; leave every other session alone.

        A session the snapshot recorded as absent is deleted; one it recorded is
        written back with its version; one already equal is not touched.
        """
        current, unreadable = self.load_many(snapshot.records)
        report = RestoreReport()
        for session_id, record in sorted(snapshot.records.items()):
            now = current.get(session_id)
            if record is None:
                present = now is not None or session_id in unreadable
                if present and self.delete(session_id):
                    report.deleted.append(session_id)
                else:
                    report.unchanged.append(session_id)
            elif now == record:
                report.unchanged.append(session_id)
            else:
                self.import_session(record, replace=True)
                report.restored.append(session_id)
        return report


@dataclass(frozen=True)
class SchemaMigration:
    """What :meth:`SessionStore.migrate` did.

    Attributes:
        before: The schema version found (0: none yet); None for a backend without one.
        after: The schema version now; None for a backend without one.
        applied: A line per migration applied, in order.
    """

    before: int | None
    after: int | None
    applied: tuple[str, ...]
