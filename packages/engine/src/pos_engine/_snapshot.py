"""Store-level snapshots of chosen sessions, and checksums that compare stores.

A snapshot records, for each session id it was asked for, the stored record (its
version included) or that there was none. Restoring it puts exactly those records
back in any store: the ones absent at the snapshot are deleted, the others are
written back as they were. It is what a backup, a rollback or a migration takes of
the sessions it touches, without knowing how a backend lays them out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic

from ._models import Session
from .exceptions import ValidationError

__all__ = ["RestoreReport", "SessionSnapshot", "record_digest", "sessions_checksum"]

SNAPSHOT_FORMAT = "pos-session-snapshot"
SNAPSHOT_VERSION = 1
_MODULUS = 1 << 256


def record_digest(session: Session) -> bytes:
    """Return the sha256 of the session's canonical JSON (sorted keys, compact, UTF-8).

    Two stores hold the same record exactly when the digests of what they load are
    equal, however each lays the record out.
    """
    text = json.dumps(
        session.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).digest()


def sessions_checksum(sessions: Iterable[Session]) -> str:
    """Return an order-independent checksum of a set of session records (64 hex digits).

    It is the sum of the records' :func:`record_digest` values modulo 2**256, so it
    can be accumulated batch by batch, in any order, over millions of records.
    """
    total = 0
    for session in sessions:
        total = (total + int.from_bytes(record_digest(session), "big")) % _MODULUS
    return f"{total:064x}"


def add_checksums(first: str, second: str) -> str:
    """Return the checksum of the union of two disjoint sets given their checksums."""
    return f"{(int(first, 16) + int(second, 16)) % _MODULUS:064x}"


@dataclass(frozen=True)
class SessionSnapshot:
    """The stored state of chosen sessions at one moment.

    Attributes:
        records: For each session id asked for: its record as stored (version included),
            or None when the store held no such session.
        unreadable: Ids whose record exists but could not be read; a restore leaves them alone.
        taken_at: When the snapshot was taken (UTC ISO 8601).
    """

    records: Mapping[str, Session | None]
    taken_at: str
    unreadable: tuple[str, ...] = ()

    @property
    def checksum(self) -> str:
        """The :func:`sessions_checksum` of the records present in the snapshot."""
        return sessions_checksum(s for s in self.records.values() if s is not None)

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot as JSON-ready data (what a backup writes to disk)."""
        return {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "taken_at": self.taken_at,
            "records": {
                sid: None if record is None else record.model_dump(mode="json")
                for sid, record in sorted(self.records.items())
            },
            "unreadable": sorted(self.unreadable),
            "checksum": self.checksum,
        }

    @classmethod
    def from_dict(cls, data: object) -> SessionSnapshot:
        """Rebuild a snapshot from :meth:`to_dict`'s data, checking its checksum.

        Raises:
            ValidationError: the data is not a snapshot, or its checksum does not match.
        """
        hint = "Pass the data a SessionSnapshot.to_dict() produced, unchanged."
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ValidationError("the data is not a session snapshot", remediation=hint)
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValidationError(
                f"session snapshot version {data.get('version')!r} is not supported "
                f"(this pos-engine reads version {SNAPSHOT_VERSION})",
                remediation="Restore it with the pos-engine version that took it.",
            )
        try:
            records = {
                str(sid): None if raw is None else Session.model_validate(raw)
                for sid, raw in dict(data["records"]).items()
            }
            snapshot = cls(
                records=records,
                taken_at=str(data["taken_at"]),
                unreadable=tuple(str(sid) for sid in data.get("unreadable", [])),
            )
        except (KeyError, TypeError, ValueError, pydantic.ValidationError) as exc:
            raise ValidationError(
                f"the session snapshot is malformed ({type(exc).__name__})", remediation=hint
            ) from None
        mismatched = [sid for sid, s in records.items() if s is not None and s.session_id != sid]
        if mismatched or snapshot.checksum != data.get("checksum"):
            raise ValidationError(
                "the session snapshot does not match its checksum: it was changed or damaged",
                remediation="Use an intact copy of the snapshot (from the backup it belongs to).",
            )
        return snapshot


@dataclass(frozen=True)
class RestoreReport:
    """What :meth:`SessionStore.restore` did, id by id (each list sorted).

    Attributes:
        restored: Sessions written back to their snapshot record.
        deleted: Sessions absent at the snapshot, removed now.
        unchanged: Sessions already as the snapshot recorded them.
    """

    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
