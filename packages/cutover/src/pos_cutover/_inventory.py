"""What a backup records of the session store, and how the store compares with it later.

Two records, both taken through the store API (never the store's files):

- :class:`SessionInventory` (``store-inventory.json``): every session the store held,
  with its version and the sha256 of its record (:func:`pos_engine.record_digest`), and
  the ids of records it could not read. Verification checks that every one of them is
  still there; a rollback says which are as they were and which moved on since
  (agents' work after the cutover, which a rollback keeps). It is read page by page, so
  it stays small (about 130 bytes a session) and cheap where a store is large; it does
  not hold the records themselves.
- a :class:`pos_engine.SessionSnapshot` (``store-snapshot.json``) of the sessions the
  cutover may create: one per legacy session file, each recorded as absent or, when a
  session of that id exists already, with its record. The migration creates only ids
  this snapshot records as absent, and a rollback restores these ids to it
  (:meth:`pos_engine.SessionStore.restore`), keeping a snapshot of any that progressed.

A record the store cannot read is named by id, not copied: the store API reads
sessions, not bytes. The cutover never writes or removes such a record (an id that
exists, readable or not, is never migrated over), so it is left exactly as it was;
the ``session-store`` pre-check warns about each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from pos_engine import SessionStore, record_digest

__all__ = ["INVENTORY_FILE", "SNAPSHOT_FILE", "InventoryCheck", "SessionInventory"]

INVENTORY_FILE = "store-inventory.json"
"""The backup's inventory of the session store."""

SNAPSHOT_FILE = "store-snapshot.json"
"""The backup's snapshot of the sessions the cutover may create."""

INVENTORY_FORMAT = "pos-cutover-session-inventory"
INVENTORY_VERSION = 1
BATCH = 500
"""Sessions listed and loaded per round trip."""


def _batches(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


@dataclass(frozen=True)
class SessionInventory:
    """Every session a store held when a backup was taken.

    Attributes:
        sessions: Session id -> (version, hex sha256 of its record). Both are None for
            a backup of format 3, whose state manifest named the store's files only.
        unreadable: Ids whose record existed but could not be read.
        store: Where the sessions were (the store's ``describe()``).
        taken_at: When the inventory was taken (UTC ISO 8601).
    """

    sessions: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()
    store: str = ""
    taken_at: str = ""

    @property
    def ids(self) -> set[str]:
        """Every id recorded, readable or not."""
        return {*self.sessions, *self.unreadable}

    @classmethod
    def take(cls, store: SessionStore, taken_at: str = "") -> SessionInventory:
        """List every session of ``store`` page by page and record its version and digest."""
        sessions: dict[str, tuple[int | None, str | None]] = {}
        unreadable: set[str] = set()
        cursor: str | None = None
        while True:
            page = store.list_page(limit=BATCH, cursor=cursor)
            found, broken = store.load_many(s.session_id for s in page.summaries)
            for sid, session in found.items():
                sessions[sid] = (session.version, record_digest(session).hex())
            unreadable.update(broken)
            cursor = page.next_cursor
            if cursor is None:
                break
        # Records the listing could not read never reached a page.
        unreadable.update(store.corrupt_ids())
        return cls(
            sessions, tuple(sorted(unreadable - sessions.keys())), store.describe(), taken_at
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the inventory as JSON-able data (what the backup writes)."""
        return {
            "format": INVENTORY_FORMAT,
            "version": INVENTORY_VERSION,
            "store": self.store,
            "taken_at": self.taken_at,
            "count": len(self.sessions),
            "sessions": [[sid, *self.sessions[sid]] for sid in sorted(self.sessions)],
            "unreadable": list(self.unreadable),
        }

    @classmethod
    def from_dict(cls, data: Any) -> SessionInventory:
        """Rebuild an inventory from :meth:`to_dict` output.

        Raises:
            ValueError: the data is not an inventory this version reads.
        """
        if not isinstance(data, dict) or data.get("format") != INVENTORY_FORMAT:
            raise ValueError("not a session inventory")
        if data.get("version") != INVENTORY_VERSION:
            raise ValueError(f"session inventory version {data.get('version')!r} is not supported")
        try:
            sessions: dict[str, tuple[int | None, str | None]] = {
                str(sid): (int(version), str(digest)) for sid, version, digest in data["sessions"]
            }
            unreadable = tuple(str(sid) for sid in data["unreadable"])
            return cls(sessions, unreadable, str(data["store"]), str(data["taken_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed session inventory ({type(exc).__name__})") from None

    def compare(self, store: SessionStore) -> InventoryCheck:
        """Say which recorded sessions are as they were, moved on, gone or unreadable now."""
        check = InventoryCheck(recorded=len(self.ids))
        readable = sorted(self.sessions)
        for batch in _batches(readable):
            found, broken = store.load_many(batch)
            for sid in batch:
                version, digest = self.sessions[sid]
                session = found.get(sid)
                if sid in broken:
                    check.unreadable.append(sid)
                elif session is None:
                    check.missing.append(sid)
                elif digest is None or record_digest(session).hex() == digest:
                    check.unchanged.append(sid)
                elif version is not None and session.version < version:
                    check.older.append(sid)
                else:
                    check.changed.append(sid)
        for sid in self.unreadable:
            (check.unchanged if store.exists(sid) else check.missing).append(sid)
        return check


@dataclass
class InventoryCheck:
    """How a store compares with a backup's inventory (each list sorted by id).

    Attributes:
        recorded: Sessions the inventory records.
        unchanged: As recorded (an unreadable record: still there).
        changed: Moved on since (a later version): work done after the backup.
        older: Present with an older version than recorded (restored from elsewhere).
        missing: Gone from the store.
        unreadable: Readable when recorded, unreadable now.
    """

    recorded: int = 0
    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    older: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def lost(self) -> list[str]:
        """Recorded sessions the store no longer serves as they were or later."""
        return sorted([*self.missing, *self.unreadable, *self.older])

    def summary(self) -> str:
        """One phrase: how many of the recorded sessions are as they were, and what else."""
        parts = [f"{len(self.unchanged)} of {self.recorded} session(s) of the backup as they were"]
        if self.changed:
            parts.append(f"{len(self.changed)} moved on since (kept as they are)")
        for what, ids in (
            ("missing", self.missing),
            ("unreadable now", self.unreadable),
            ("at an older version", self.older),
        ):
            if ids:
                shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
                parts.append(f"{len(ids)} {what}: {shown}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as a JSON-able dict."""
        return asdict(self)
