"""Copy sessions between two stores with ids and versions intact, and prove the copy.

The copy is idempotent: a record the target already holds unchanged is counted, not
written again, and a target record that differs is reported as a conflict and left
alone unless ``overwrite`` says otherwise. Both sides get a checksum over the same
ids, so equal checksums show the target holds exactly the source's records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ._models import Session
from ._snapshot import add_checksums, sessions_checksum
from ._store import SessionStore

__all__ = ["CopyConflict", "CopyReport", "copy_sessions"]

EMPTY_CHECKSUM = "0" * 64


@dataclass(frozen=True)
class CopyConflict:
    """A session the target holds with a different record (left as it was).

    Attributes:
        session_id: The session.
        source_version: Its version in the source.
        target_version: Its version in the target; None when the target's record is unreadable.
    """

    session_id: str
    source_version: int
    target_version: int | None


@dataclass
class CopyReport:
    """What :func:`copy_sessions` found and did.

    Attributes:
        source_sessions: Readable sessions in the source (all of them were considered).
        copied: Written to a target that did not hold them.
        unchanged: Already in the target with the same record.
        replaced: Differing target records overwritten (only with ``overwrite``).
        conflicts: Differing target records left as they were.
        unreadable: Source records that could not be read (not copied).
        source_checksum: Checksum of the source's readable records.
        target_checksum: Checksum of the target's records of the same ids, after the copy.
    """

    source_sessions: int = 0
    copied: int = 0
    unchanged: int = 0
    replaced: int = 0
    conflicts: list[CopyConflict] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    target_sessions: int = 0
    source_checksum: str = EMPTY_CHECKSUM
    target_checksum: str = EMPTY_CHECKSUM

    @property
    def verified(self) -> bool:
        """Whether the target now holds every readable source record exactly."""
        return (
            self.target_sessions == self.source_sessions
            and self.source_checksum == self.target_checksum
        )


Progress = Callable[[CopyReport], None]


def _copy_one(
    target: SessionStore,
    session: Session,
    existing: Session | None,
    *,
    unreadable: bool,
    overwrite: bool,
    report: CopyReport,
) -> None:
    if existing is None and not unreadable:
        if target.import_session(session):
            report.copied += 1
            return
        # Created in the target meanwhile: compare with what is there now.
        found, broken = target.load_many([session.session_id])
        existing, unreadable = found.get(session.session_id), bool(broken)
    if existing == session:
        report.unchanged += 1
    elif overwrite:
        target.import_session(session, replace=True)
        report.replaced += 1
    else:
        version = existing.version if existing is not None else None
        report.conflicts.append(CopyConflict(session.session_id, session.version, version))


def copy_sessions(
    source: SessionStore,
    target: SessionStore,
    *,
    overwrite: bool = False,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every readable session of ``source`` into ``target``, ids and versions intact.

    Sessions are read page by page (newest first); stop the servers that write to
    ``source`` for a complete copy, or run the copy again afterwards: it copies only
    what is new and reports what changed.

    Args:
        source: Where the sessions are read.
        target: Where they are written (set up: schema migrated, folder created).
        overwrite: Replace target records that differ from the source's.
        batch_size: Sessions read and written per round.
        progress: Called with the report so far after each batch.

    Returns:
        Counts, conflicts and the checksums of both sides.
    """
    report = CopyReport()
    cursor: str | None = None
    while True:
        page = source.list_page(limit=batch_size, cursor=cursor)
        ids = [summary.session_id for summary in page.summaries]
        found, unreadable = source.load_many(ids)
        report.unreadable += unreadable
        existing, broken = target.load_many(found)
        for session_id, session in found.items():
            _copy_one(
                target,
                session,
                existing.get(session_id),
                unreadable=session_id in broken,
                overwrite=overwrite,
                report=report,
            )
        after, _ = target.load_many(found)
        report.source_sessions += len(found)
        report.target_sessions += len(after)
        report.source_checksum = add_checksums(
            report.source_checksum, sessions_checksum(found.values())
        )
        report.target_checksum = add_checksums(
            report.target_checksum, sessions_checksum(after.values())
        )
        if progress is not None:
            progress(report)
        cursor = page.next_cursor
        if cursor is None:
            break
    # Records the listing could not read never reached a page.
    report.unreadable = sorted({*report.unreadable, *source.corrupt_ids()})
    return report
