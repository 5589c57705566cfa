"""The in-memory listing of the file store: summaries in listing order, counts, pages.

No I/O here: :mod:`pos_engine._file_index` feeds it from the shared change log.
A listing runs newest ``created_at`` first, ties by ``session_id`` descending; the
sorted keys are kept per status too, so a filtered page is as cheap as a plain one.
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Any

from ._models import SESSION_STATUSES, SessionSummary

__all__ = ["Listing", "Sig", "Values", "summary_of", "values_of", "values_ok"]

Sig = tuple[int, int, int]
"""A record file's stat signature: (mtime_ns, size, inode). Every store write makes a new inode."""

Values = tuple[str, str, int, int, str, str, str]
"""A summary without its id: workflow_type, target_file, current_phase, total_phases,
status, created_at, last_updated."""

_Key = tuple[str, str]  # (created_at, session_id): the listing sorts by it, descending


def values_of(summary: SessionSummary) -> Values:
    """Return the summary's values in :data:`Values` order."""
    return (
        summary.workflow_type,
        summary.target_file,
        summary.current_phase,
        summary.total_phases,
        summary.status,
        summary.created_at,
        summary.last_updated,
    )


_TYPES = (str, str, int, int, str, str, str)


def values_ok(values: Any) -> bool:
    """Whether ``values`` (read back from the shared log) has the shape of :data:`Values`."""
    return (
        isinstance(values, tuple | list)
        and len(values) == len(_TYPES)
        and all(type(v) is t for v, t in zip(values, _TYPES, strict=True))
        and values[4] in SESSION_STATUSES
    )


def summary_of(session_id: str, values: Values) -> SessionSummary:
    """Build the summary (its values were checked by :func:`values_ok` on the way in)."""
    return SessionSummary.model_construct(
        session_id=session_id,
        workflow_type=values[0],
        target_file=values[1],
        current_phase=values[2],
        total_phases=values[3],
        status=values[4],
        created_at=values[5],
        last_updated=values[6],
    )


class Listing:
    """Every readable session's signature and summary, in listing order; and the corrupt ids."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Sig, Values]] = {}
        self.corrupt: dict[str, Sig] = {}
        self._all: list[_Key] = []  # ascending: the listing reads it from the end
        self._by_status: dict[str, list[_Key]] = {status: [] for status in SESSION_STATUSES}
        self._kinds: Counter[tuple[str, str]] = Counter()  # (status, workflow_type)

    def __len__(self) -> int:
        return len(self.rows)

    def put(self, session_id: str, sig: Sig, values: Values) -> None:
        """Index a readable record (replacing what was known of it)."""
        self.corrupt.pop(session_id, None)
        previous = self.rows.get(session_id)
        if previous is not None:
            if previous[1] == values:
                self.rows[session_id] = (sig, previous[1])
                return
            self._unlist(session_id, previous[1])
        self.rows[session_id] = (sig, values)
        key = (values[5], session_id)
        bisect.insort(self._all, key)
        bisect.insort(self._by_status[values[4]], key)
        self._kinds[values[4], values[0]] += 1

    def drop(self, session_id: str) -> None:
        """Forget a record that no longer exists."""
        self.corrupt.pop(session_id, None)
        previous = self.rows.pop(session_id, None)
        if previous is not None:
            self._unlist(session_id, previous[1])

    def set_corrupt(self, session_id: str, sig: Sig) -> None:
        """Record that the file with this signature cannot be read; it leaves the listing."""
        self.drop(session_id)
        self.corrupt[session_id] = sig

    def _unlist(self, session_id: str, values: Values) -> None:
        key = (values[5], session_id)
        for keys in (self._all, self._by_status[values[4]]):
            index = bisect.bisect_left(keys, key)
            if index < len(keys) and keys[index] == key:
                del keys[index]
        kind = (values[4], values[0])
        self._kinds[kind] -= 1
        if self._kinds[kind] <= 0:
            del self._kinds[kind]

    def page(
        self, status: str | None, limit: int, after: _Key | None
    ) -> tuple[list[SessionSummary], int, bool]:
        """Return up to ``limit`` summaries after the key ``after``, the total, and whether more follow."""
        keys = self._all if status is None else self._by_status[status]
        end = len(keys) if after is None else bisect.bisect_left(keys, after)
        start = max(0, end - limit)
        rows = self.rows
        chosen = [summary_of(sid, rows[sid][1]) for _, sid in reversed(keys[start:end])]
        return chosen, len(keys), start > 0

    def summaries(self, status: str | None) -> list[SessionSummary]:
        """Return every summary (of one status), newest first."""
        keys = self._all if status is None else self._by_status[status]
        rows = self.rows
        return [summary_of(sid, rows[sid][1]) for _, sid in reversed(keys)]

    def kinds(self) -> Counter[tuple[str, str]]:
        """How many sessions there are of each (status, workflow_type)."""
        return Counter(self._kinds)

    def to_json(self) -> dict[str, Any]:
        """The listing as the header of a compacted log holds it."""
        return {
            "sessions": [[sid, *sig, *values] for sid, (sig, values) in self.rows.items()],
            "corrupt": [[sid, *sig] for sid, sig in self.corrupt.items()],
        }

    @classmethod
    def from_json(cls, data: Any) -> Listing:
        """Rebuild a listing from :meth:`to_json`'s output.

        Raises:
            ValueError: ``data`` is not such output.
        """
        listing = cls()
        if not isinstance(data, dict):
            raise ValueError("the header is not an object")
        rows: dict[str, tuple[Sig, Values]] = {}
        for item in data["sessions"]:
            sid, sig, values = item[0], tuple(item[1:4]), tuple(item[4:])
            if not isinstance(sid, str) or not _sig_ok(sig) or not values_ok(values):
                raise ValueError("a session entry of the header is malformed")
            rows[sid] = (sig, values)
        for item in data["corrupt"]:
            sig = tuple(item[1:4])
            if not isinstance(item[0], str) or not _sig_ok(sig):
                raise ValueError("a corrupt entry of the header is malformed")
            listing.corrupt[item[0]] = sig
        listing.rows = rows
        listing._all = sorted((values[5], sid) for sid, (_, values) in rows.items())
        for _, sid in listing._all:
            values = rows[sid][1]
            listing._by_status[values[4]].append((values[5], sid))
            listing._kinds[values[4], values[0]] += 1
        return listing


def _sig_ok(sig: tuple[Any, ...]) -> bool:
    return len(sig) == 3 and all(type(part) is int for part in sig)
