"""The ``legacy-sessions`` migration step: legacy session files into the session store, and back.

``apply`` (:func:`migrate_legacy_sessions`) converts each legacy session file and
creates the session in the store the cutover was given (``ctx.store``: the
project's file store, or PostgreSQL), under the same id, through the store API.
``rollback`` (:func:`undo_legacy_sessions`) restores exactly those ids to the
backup's store snapshot. See ``pos_cutover._legacy`` for the ledger that makes
both idempotent and safe to kill at any point, and the order that guarantees it:

1. the ledger names an id (``legacy-migration.json``, written atomically) before
   its session is created, and only ids the backup's snapshot records as absent
   are claimed;
2. the session is created (``store.create``: one atomic file link, or one INSERT);
3. the ledger records what happened to each file.

A kill between 2 and 3 leaves a session the ledger already names, so a rollback
removes it and a re-run counts it as migrated "by an earlier run". An undo keeps
a snapshot of each session that moved on since the cutover before removing it,
and writes the ledger only after the store is restored, so a kill during an undo
leaves the ledger naming what a second rollback still has to remove.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pos_engine import (
    ConflictError,
    InternalError,
    PosError,
    Session,
    SessionSnapshot,
    SessionStore,
)

from ._backup import LEGACY_COPY_DIR, LEGACY_STATE_DIR, Backup, utc_stamp
from ._files import json_bytes, sha256_file
from ._legacy import (
    STEP_NAME,
    LegacyMigration,
    LegacySessionFile,
    mark_duplicate,
    mark_present,
    read_legacy_migration,
    spec_note,
    surveyed_sessions,
    write_ledger,
)
from ._migrate import MigrationContext, MigrationOutcome, MigrationStep, register_migration_step
from .exceptions import CutoverError

__all__ = [
    "LEGACY_SESSIONS_STEP",
    "ROLLED_BACK_DIR",
    "migrate_legacy_sessions",
    "undo_legacy_sessions",
]

ROLLED_BACK_DIR = "rolled-back-sessions"
"""Where a rollback keeps migrated sessions that progressed after the cutover (in the backup)."""


def _absent_at_backup(backup: Backup) -> set[str] | None:
    """Ids the backup's store snapshot records as absent (None: a backup of format 3, no snapshot)."""
    if backup.format_version < 4:
        return None
    return {sid for sid, record in backup.snapshot().records.items() if record is None}


def _claims(
    store: SessionStore,
    surveyed: Iterable[tuple[LegacySessionFile, Session | None]],
    before: set[str],
    absent: set[str] | None,
) -> list[str]:
    """Ids to create: converted, absent at the backup and now, each once."""
    claims: list[str] = []
    for _, session in surveyed:
        if session is None:
            continue
        sid = session.session_id
        if absent is not None and sid not in absent:
            continue
        if sid not in claims and sid not in before and not store.exists(sid):
            claims.append(sid)
    return claims


def _create(store: SessionStore, record: LegacySessionFile, session: Session) -> bool:
    """Create the session; return False (and say why in ``record``) when it was not created."""
    sid = session.session_id
    try:
        store.create(session)
    except ConflictError:
        mark_present(record, sid)
        return False
    except InternalError as exc:  # the disk or the database, not the data: stop the cutover
        raise CutoverError(
            f"cannot write migrated session {sid} ({record.source}): {exc.message}",
            remediation=exc.remediation,
        ) from None
    except PosError as exc:
        record.outcome = "not_migrated"
        record.message = f"{record.source}: cannot be migrated: {exc.message}"
        return False
    return True


def _summary(ledger: LegacyMigration, again: int, where: str) -> str:
    migrated = ledger.count("migrated")
    failed_sessions = sum(
        1 for f in ledger.files if f.outcome == "migrated" and f.status == "failed"
    )
    parts = [
        f"{migrated} of {len(ledger.files)} legacy session file(s) migrated with their ids "
        f"into {where}"
        + (
            f" ({failed_sessions} failed checkpoint(s) kept as failed sessions)"
            if failed_sessions
            else ""
        )
    ]
    if again:
        parts.append(f"{again} of them by an earlier run of this cutover")
    if ledger.count("present"):
        parts.append(f"{ledger.count('present')} already in the store (not overwritten)")
    not_migrated = [f.source for f in ledger.files if f.outcome == "not_migrated"]
    if not_migrated:
        parts.append(f"{len(not_migrated)} not migrated ({', '.join(not_migrated)})")
    return "; ".join(parts) + "; the legacy files are unchanged"


def _unrecorded(record: LegacySessionFile, sid: str, backup: Backup) -> None:
    record.outcome = "not_migrated"
    record.message = (
        f"{record.source}: not migrated: session {sid} is not in backup {backup.backup_id}'s "
        "store snapshot (the file appeared after the backup); run the cutover again to migrate it"
    )


def migrate_legacy_sessions(ctx: MigrationContext) -> MigrationOutcome:
    """Migrate each legacy session file into the project's store (``apply``'s step).

    Raises:
        CutoverError: A session cannot be written (disk, permissions, database): the cutover stops.
        StoreError: The store cannot be opened.
    """
    surveyed = surveyed_sessions(ctx.project, ctx.spec_map)
    if not surveyed:
        return MigrationOutcome(STEP_NAME, f"no legacy session files under {LEGACY_STATE_DIR}")
    previous = read_legacy_migration(ctx.backup)
    before = ctx.backup.inventory().ids
    absent = _absent_at_backup(ctx.backup)
    with ctx.store.opened(ctx.project) as store:
        claimed = list(previous.created) if previous else []
        claimed += [sid for sid in _claims(store, surveyed, before, absent) if sid not in claimed]
        ledger = LegacyMigration(ctx.backup.backup_id, claimed, migrated_at=utc_stamp())
        if previous is not None:
            ledger.removed, ledger.kept = previous.removed, previous.kept
            ledger.rolled_back_at = previous.rolled_back_at
        # Intent first: every id is in the ledger before its session can exist.
        write_ledger(ctx.backup, ledger)
        created: list[str] = []
        again = 0
        done: set[str] = set()
        try:
            for record, session in surveyed:
                ledger.files.append(record)
                if session is None:
                    continue
                sid = session.session_id
                if sid in done:
                    mark_duplicate(record, sid)
                elif absent is not None and sid not in absent and sid not in before:
                    _unrecorded(record, sid, ctx.backup)
                elif sid not in ledger.created:
                    mark_present(record, sid)
                elif store.exists(sid):
                    again += 1
                    record.outcome = "migrated"
                elif _create(store, record, session):
                    created.append(sid)
                    record.outcome = "migrated"
                else:
                    ledger.created.remove(sid)
                done.add(sid)
                if record.outcome == "migrated":
                    record.message = (
                        f"{record.source}: migrated as session {sid} ({record.workflow_type}), "
                        f"{record.status} at phase {record.phase}{spec_note(record)}"
                    )
        finally:
            write_ledger(ctx.backup, ledger)
        where = store.describe()
    return MigrationOutcome(STEP_NAME, _summary(ledger, again, where), sessions=created)


def _originals(backup: Backup, project: Path) -> list[str]:
    """The legacy files of the backup's state manifest that changed or vanished since."""
    changed = []
    for entry in backup.state()["files"]:
        if not entry["path"].startswith(LEGACY_STATE_DIR + "/"):
            continue
        path = project / entry["path"]
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            changed.append(entry["path"])
    return changed


def _keep_progressed(backup: Backup, now: SessionSnapshot) -> list[str]:
    """Keep a snapshot of each session that moved on since the migration; return the file names."""
    kept = []
    for sid, record in sorted(now.records.items()):
        name = f"{ROLLED_BACK_DIR}/{sid}.json"
        if record is not None and record.version > 1:
            one = SessionSnapshot(records={sid: record}, taken_at=now.taken_at)
            backup.write_output(name, json_bytes(one.to_dict()))
            kept.append(name)
        elif record is None and (backup.path / name).is_file():
            kept.append(name)  # kept by an earlier rollback that was interrupted
    return kept


def undo_legacy_sessions(ctx: MigrationContext) -> MigrationOutcome:
    """Restore the sessions the migration created to the backup's snapshot (``rollback``'s step).

    Never touches a session the backup's inventory records. A migrated session that
    progressed after the cutover (its version is over 1) is kept in the backup first,
    as a store snapshot under ``rolled-back-sessions/``. A session whose record the
    store cannot read any more is left where it is and named.

    Raises:
        CutoverError: A session cannot be removed.
        StoreError: The store cannot be opened.
    """
    ledger = read_legacy_migration(ctx.backup)
    changed = _originals(ctx.backup, ctx.project)
    originals = (
        f"{ctx.backup.legacy_files} legacy session file(s) unchanged"
        if not changed
        else f"legacy files changed since the backup (the backup keeps their copies under "
        f"{LEGACY_COPY_DIR}/): {', '.join(changed)}"
    )
    if ledger is None or not ledger.created:
        return MigrationOutcome(STEP_NAME, f"no migrated legacy sessions to remove; {originals}")
    before = ctx.backup.inventory().ids
    ids = [sid for sid in ledger.created if sid not in before]
    target = ctx.backup.snapshot(ids)
    with ctx.store.opened(ctx.project) as store:
        try:
            now = store.snapshot(ids)
            kept = _keep_progressed(ctx.backup, now)
            readable = {sid: r for sid, r in target.records.items() if sid not in now.unreadable}
            restored = store.restore(SessionSnapshot(records=readable, taken_at=target.taken_at))
            for sid in restored.unchanged:
                if readable.get(sid, now) is None:
                    # Absent already: a killed rollback may have left the file store's lock
                    # file; deleting an absent session removes it (and changes nothing else).
                    store.delete(sid)
        except PosError as exc:
            raise CutoverError(
                f"cannot remove the migrated sessions from {store.describe()}: {exc.message}",
                remediation="Fix what the message names and run the rollback again (it removes "
                "only what is left); the legacy files are unchanged.",
            ) from None
    ledger.removed, ledger.kept = sorted(restored.deleted), kept
    ledger.created = list(now.unreadable)  # left in place: a later rollback tries again
    ledger.rolled_back_at = utc_stamp()
    write_ledger(ctx.backup, ledger)
    message = f"removed {len(ledger.removed)} migrated legacy session(s)"
    if kept:
        message += (
            f" ({len(kept)} had progressed after the cutover: their last state is kept in the "
            f"backup under {ROLLED_BACK_DIR}/)"
        )
    if now.unreadable:
        message += (
            f"; left in the store, unreadable now: {', '.join(now.unreadable)} (look at it, then "
            "remove it with delete_session)"
        )
    return MigrationOutcome(STEP_NAME, f"{message}; {originals}", sessions=sorted(restored.deleted))


LEGACY_SESSIONS_STEP = MigrationStep(
    STEP_NAME,
    migrate_legacy_sessions,
    undo_legacy_sessions,
    "migrate legacy session files (.praxis-os/.cache/state) into the session store",
)
"""The built-in migration step, registered when pos_cutover is imported."""

register_migration_step(LEGACY_SESSIONS_STEP)
