"""Apply and restore the registry atomically, with a journal that survives a kill.

The registry only ever changes by an atomic rename (see :func:`~pos_cutover._files.atomic_write`),
so at every instant it holds either the backup's bytes or the target's. The
journal ``.praxis-os/cutover-journal.json`` (itself replaced atomically) records
which cutover is under way and the sha256 of both versions:

=============== =================================================================
state           meaning
=============== =================================================================
``applying``    about to replace the registry with the target
``applied``     the target is in place, not yet verified
``verified``    the target is in place and verified; only the report is left
``rolling_back`` about to restore the backup's registry
=============== =================================================================

A run that finds a journal recovers first (:func:`recover`): when the registry
already holds the target the cutover is *completed* (verified if it was not);
when it still holds the backup's bytes the cutover is *rolled back*; a rollback
that was under way is finished. A registry that matches neither is left alone
for a human (:class:`~pos_cutover.exceptions.JournalError`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pos_tool import REGISTRY_FILE

from ._backup import Backup, find_backup, read_registry, utc_stamp
from ._files import atomic_write, durable_unlink, json_bytes, remove_stale_temps, sha256_bytes
from .exceptions import BackupError, JournalError

__all__ = [
    "JOURNAL_FILE",
    "ApplyResult",
    "Journal",
    "JournalState",
    "Recovery",
    "apply_registry",
    "clear_journal",
    "read_journal",
    "recover",
    "registry_sha256",
    "restore_registry",
    "set_journal_state",
]

JOURNAL_FILE = ".praxis-os/cutover-journal.json"
"""The cutover journal, relative to the project root."""

JournalState = Literal["applying", "applied", "verified", "rolling_back"]


@dataclass
class Journal:
    """What an unfinished cutover was doing.

    Attributes:
        backup_id: The backup the cutover started from.
        state: See the module docstring.
        before_sha256: The registry's sha256 before the cutover (None: no file).
        target_sha256: The sha256 of the target registry.
        started_at: When the cutover's apply began.
        updated_at: When the state last changed.
        pid: The process that wrote the journal.
    """

    backup_id: str
    state: JournalState
    before_sha256: str | None
    target_sha256: str
    started_at: str
    updated_at: str = ""
    pid: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the journal as a JSON-able dict."""
        return asdict(self)


def _journal_path(project: Path) -> Path:
    return project / JOURNAL_FILE


def read_journal(project: Path) -> Journal | None:
    """Return the project's cutover journal, or None when no cutover is unfinished.

    Raises:
        JournalError: The journal exists but is not a journal.
    """
    path = _journal_path(project)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Journal(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise JournalError(f"{JOURNAL_FILE} is unreadable ({type(exc).__name__})") from None


def _write_journal(project: Path, journal: Journal) -> None:
    journal.updated_at = utc_stamp()
    journal.pid = os.getpid()
    atomic_write(_journal_path(project), json_bytes(journal.to_dict()), mode=0o600)


def set_journal_state(project: Path, state: JournalState) -> Journal | None:
    """Move the unfinished cutover's journal to ``state``; return it (None if there is none)."""
    journal = read_journal(project)
    if journal is not None:
        journal.state = state
        _write_journal(project, journal)
    return journal


def clear_journal(project: Path) -> bool:
    """Remove the journal (the cutover is finished either way); return whether there was one."""
    removed = durable_unlink(_journal_path(project))
    remove_stale_temps(_journal_path(project))
    return removed


def registry_sha256(project: Path) -> str | None:
    """Return the sha256 of the project's registry file (None when it has none)."""
    data = read_registry(project)
    return None if data is None else sha256_bytes(data)


@dataclass
class ApplyResult:
    """What :func:`apply_registry` did.

    Attributes:
        changed: Whether the registry was replaced (False: it held the target already).
        backup_id: The backup the journal names.
        before_sha256: The registry's sha256 before (None: no file).
        target_sha256: The registry's sha256 now.
    """

    changed: bool
    backup_id: str
    before_sha256: str | None
    target_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict."""
        return asdict(self)


def apply_registry(project: Path, backup: Backup) -> ApplyResult:
    """Replace the registry with the backup's target, journaled and atomically.

    Steps: journal ``applying`` -> temp file, fsync, rename, fsync folder ->
    journal ``applied``. A kill at any point leaves the backup's registry or the
    target's; :func:`recover` finishes the job on the next run.

    Raises:
        BackupError: The registry changed since the backup was taken.
    """
    target = backup.target_bytes()
    target_sha = sha256_bytes(target)
    current = registry_sha256(project)
    if current == target_sha:
        return ApplyResult(False, backup.backup_id, backup.registry_sha256, target_sha)
    if current != backup.registry_sha256:
        raise BackupError(
            f"the registry changed since backup {backup.backup_id} was taken "
            f"(sha256 {current} != {backup.registry_sha256})",
            remediation="Take a new backup (pos-cutover backup) and apply again.",
        )
    stamp = utc_stamp()
    _write_journal(
        project,
        Journal(backup.backup_id, "applying", backup.registry_sha256, target_sha, started_at=stamp),
    )
    atomic_write(project / REGISTRY_FILE, target, mode=backup.registry_mode or 0o644)
    set_journal_state(project, "applied")
    return ApplyResult(True, backup.backup_id, backup.registry_sha256, target_sha)


def restore_registry(project: Path, backup: Backup) -> str | None:
    """Restore the registry byte-identical to ``backup`` (or remove it if none existed).

    The journal says ``rolling_back`` until the registry is restored and checked;
    then it is removed.

    Returns:
        The registry's sha256 after the restore (None: no file, as before).

    Raises:
        JournalError: The registry does not match the backup after the restore.
    """
    current = registry_sha256(project)
    journal = read_journal(project)
    if journal is None:
        target = current or sha256_bytes(b"")
        journal = Journal(
            backup.backup_id, "rolling_back", backup.registry_sha256, target, started_at=utc_stamp()
        )
    journal.state = "rolling_back"
    _write_journal(project, journal)
    path = project / REGISTRY_FILE
    data = backup.registry_bytes()
    if data is None:
        durable_unlink(path)
    else:
        atomic_write(path, data, mode=backup.registry_mode or 0o644)
    remove_stale_temps(path)
    after = registry_sha256(project)
    if after != backup.registry_sha256:
        raise JournalError(
            f"the registry does not match backup {backup.backup_id} after the restore"
        )
    clear_journal(project)
    return after


@dataclass
class Recovery:
    """What :func:`recover` found and did.

    Attributes:
        outcome: ``none`` (no unfinished cutover), ``completed`` (the target is in
            place) or ``rolled_back`` (the backup's registry is in place).
        message: One sentence for the release engineer.
        backup_id: The interrupted cutover's backup.
        needs_verification: The journal does not say the cutover was verified
            (the backup may still hold a passing verification made since
            ``started_at``; see ``Cutover.run``).
        removed_temps: Temp files of the interrupted writes that were removed.
        started_at: When the interrupted cutover's apply began.
    """

    outcome: Literal["none", "completed", "rolled_back"]
    message: str
    backup_id: str | None = None
    needs_verification: bool = False
    removed_temps: list[str] = field(default_factory=list)
    started_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the recovery as a JSON-able dict."""
        return asdict(self)


def _finish_rollback(project: Path, journal: Journal) -> None:
    try:
        backup = find_backup(project, journal.backup_id)
    except BackupError as exc:
        raise JournalError(
            f"an interrupted rollback cannot be finished: {exc.message}",
            remediation="Restore .praxis-os/config/tool-registry.json by hand, then delete the journal.",
        ) from None
    restore_registry(project, backup)


def recover(project: Path) -> Recovery:
    """Detect an interrupted cutover and complete it or roll it back.

    Raises:
        JournalError: The journal is unreadable, or the registry matches neither
            the backup nor the target.
    """
    registry = project / REGISTRY_FILE
    removed = [
        p.name for p in remove_stale_temps(registry) + remove_stale_temps(project / JOURNAL_FILE)
    ]
    journal = read_journal(project)
    if journal is None:
        return Recovery("none", "no interrupted cutover", removed_temps=removed)
    current = registry_sha256(project)
    backup_id = journal.backup_id
    if journal.state == "rolling_back":
        if current != journal.before_sha256:
            _finish_rollback(project, journal)
        clear_journal(project)
        return Recovery(
            "rolled_back",
            f"an interrupted rollback to {backup_id} was finished: the registry equals the backup",
            backup_id,
            removed_temps=removed,
        )
    if current == journal.target_sha256:
        needs = journal.state != "verified"
        set_journal_state(project, "applied" if needs else "verified")
        detail = "verification follows" if needs else "it was already verified"
        return Recovery(
            "completed",
            f"an interrupted cutover from {backup_id} was completed: the target registry is in place ({detail})",
            backup_id,
            needs_verification=needs,
            removed_temps=removed,
            started_at=journal.started_at,
        )
    if current == journal.before_sha256:
        clear_journal(project)
        return Recovery(
            "rolled_back",
            f"an interrupted cutover from {backup_id} was rolled back: the registry still equals the backup",
            backup_id,
            removed_temps=removed,
        )
    raise JournalError(
        f"an interrupted cutover from {backup_id} left a registry (sha256 {current}) that matches "
        f"neither the backup ({journal.before_sha256}) nor the target ({journal.target_sha256})"
    )
