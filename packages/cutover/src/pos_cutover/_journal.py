"""Apply and restore the cutover's files atomically, with a journal that survives a kill.

The cutover changes the registry and, on a praxis-os project, other project files
(config.json, client configs, agent instructions; see ``pos_cutover._changes``).
Each changes only by an atomic rename (see :func:`~pos_cutover._files.atomic_write`),
so at every instant each holds either the backup's bytes or the target's. The
journal ``.praxis-os/cutover-journal.json`` (itself replaced atomically) records
which cutover is under way and the sha256 of both versions of every file:

=============== =================================================================
state           meaning
=============== =================================================================
``applying``    about to replace the files with their targets
``applied``     every target is in place, not yet verified
``verified``    every target is in place and verified; only the report is left
``rolling_back`` about to restore the backup's files
=============== =================================================================

A run that finds a journal recovers first (:func:`recover`): when every file
already holds its target the cutover is *completed* (verified if it was not);
when they hold the backup's bytes, or some do and the others their target (a
kill in the middle of ``apply``), the cutover is *rolled back*; a rollback that
was under way is finished. A file that matches neither side is left alone for a
human (:class:`~pos_cutover.exceptions.JournalError`).
"""

from __future__ import annotations

import contextlib
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
    "KEPT_FILES_DIR",
    "ApplyResult",
    "Journal",
    "JournalState",
    "Recovery",
    "apply_changes",
    "clear_journal",
    "read_journal",
    "recover",
    "registry_sha256",
    "restore_changes",
    "set_journal_state",
    "targets_in_place",
]

JOURNAL_FILE = ".praxis-os/cutover-journal.json"
"""The cutover journal, relative to the project root."""

KEPT_FILES_DIR = "rolled-back-files"
"""Where a rollback keeps a file edited after the cutover before restoring it (in the backup)."""

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
        files: The other files: ``{"path", "before", "target"}`` (sha256; before None: absent).
    """

    backup_id: str
    state: JournalState
    before_sha256: str | None
    target_sha256: str
    started_at: str
    updated_at: str = ""
    pid: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)

    def sides(self) -> list[tuple[str, str | None, str]]:
        """Every journaled file: (path, sha256 before, sha256 of the target)."""
        return [
            (REGISTRY_FILE, self.before_sha256, self.target_sha256),
            *((f["path"], f["before"], f["target"]) for f in self.files),
        ]

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


def _sha(project: Path, path: str) -> str | None:
    try:
        return sha256_bytes((project / path).read_bytes())
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class _Side:
    """One file of a cutover: its bytes before (None: absent) and its target."""

    path: str
    before: bytes | None
    target: bytes
    mode: int

    def state(self, project: Path) -> Literal["before", "target", "neither"]:
        current = _sha(project, self.path)
        if current == sha256_bytes(self.target):
            return "target"
        before = None if self.before is None else sha256_bytes(self.before)
        return "before" if current == before else "neither"


def _sides(backup: Backup) -> list[_Side]:
    registry = _Side(
        REGISTRY_FILE, backup.registry_bytes(), backup.target_bytes(), backup.registry_mode or 0o644
    )
    return [registry, *(_Side(c.path, c.before, c.after, c.mode) for c in backup.changes())]


def _journal_of(backup: Backup, sides: list[_Side], state: JournalState) -> Journal:
    files = [
        {
            "path": s.path,
            "before": None if s.before is None else sha256_bytes(s.before),
            "target": sha256_bytes(s.target),
        }
        for s in sides[1:]
    ]
    target = sha256_bytes(sides[0].target)
    return Journal(
        backup.backup_id, state, backup.registry_sha256, target, utc_stamp(), files=files
    )


def targets_in_place(project: Path, journal: Journal) -> bool:
    """Whether every file the journal names holds its target."""
    return all(_sha(project, path) == target for path, _, target in journal.sides())


@dataclass
class ApplyResult:
    """What :func:`apply_changes` did.

    Attributes:
        changed: Whether a file was replaced (False: every one held its target already).
        backup_id: The backup the journal names.
        before_sha256: The registry's sha256 before (None: no file).
        target_sha256: The registry's sha256 now.
        files: The files replaced, relative to the project (the registry included).
    """

    changed: bool
    backup_id: str
    before_sha256: str | None
    target_sha256: str
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict."""
        return asdict(self)


def apply_changes(project: Path, backup: Backup) -> ApplyResult:
    """Replace the registry and every planned project file with its target, journaled and atomically.

    Steps: journal ``applying`` -> for each file: temp file, fsync, rename, fsync
    folder -> journal ``applied``. A kill at any point leaves each file with the
    backup's bytes or the target's; :func:`recover` finishes the job on the next run.

    Raises:
        BackupError: A file changed since the backup was taken.
    """
    sides = _sides(backup)
    states = [side.state(project) for side in sides]
    target_sha = sha256_bytes(sides[0].target)
    if all(state == "target" for state in states):
        return ApplyResult(False, backup.backup_id, backup.registry_sha256, target_sha)
    moved = [side.path for side, state in zip(sides, states, strict=True) if state == "neither"]
    if moved:
        raise BackupError(
            f"{', '.join(moved)} changed since backup {backup.backup_id} was taken",
            remediation="Take a new backup (pos-cutover backup) and apply again.",
        )
    _write_journal(project, _journal_of(backup, sides, "applying"))
    written = []
    for side, state in zip(sides, states, strict=True):
        if state != "target":
            atomic_write(project / side.path, side.target, mode=side.mode)
            written.append(side.path)
    set_journal_state(project, "applied")
    return ApplyResult(True, backup.backup_id, backup.registry_sha256, target_sha, written)


def _restore(project: Path, backup: Backup, side: _Side) -> None:
    """Put the backup's bytes of one file back; keep a copy of bytes nobody planned."""
    path = project / side.path
    state = side.state(project)
    if state == "neither" and path.is_file():
        backup.write_output(f"{KEPT_FILES_DIR}/{side.path}", path.read_bytes())
    if side.before is None:
        durable_unlink(path)
    elif state != "before":
        atomic_write(path, side.before, mode=side.mode)
    remove_stale_temps(path)


def restore_changes(project: Path, backup: Backup) -> str | None:
    """Restore the registry and every other file of the cutover byte-identical to ``backup``.

    A file that was absent before is removed. A file that holds neither the backup's
    bytes nor the cutover's target (someone edited it since) is first copied into
    the backup under :data:`KEPT_FILES_DIR`. Folders the cutover created for its
    files are removed again when empty. The journal says ``rolling_back``
    until every file is restored and checked; then it is removed.

    Returns:
        The registry's sha256 after the restore (None: no file, as before).

    Raises:
        JournalError: A file does not match the backup after the restore.
    """
    sides = _sides(backup)
    journal = read_journal(project) or _journal_of(backup, sides, "rolling_back")
    journal.state = "rolling_back"
    _write_journal(project, journal)
    for side in sides:
        _restore(project, backup, side)
    wrong = [side.path for side in sides if side.state(project) != "before"]
    if wrong:
        raise JournalError(
            f"{', '.join(wrong)} do(es) not match backup {backup.backup_id} after the restore"
        )
    for folder in backup.absent_dirs():
        with contextlib.suppress(OSError):  # not empty (someone put a file there): it stays
            (project / folder).rmdir()
    clear_journal(project)
    return registry_sha256(project)


@dataclass
class Recovery:
    """What :func:`recover` found and did.

    Attributes:
        outcome: ``none`` (no unfinished cutover), ``completed`` (the targets are in
            place) or ``rolled_back`` (the backup's files are in place).
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


def _backup_for(project: Path, journal: Journal, what: str) -> Backup:
    try:
        return find_backup(project, journal.backup_id)
    except BackupError as exc:
        raise JournalError(
            f"an interrupted {what} cannot be finished: {exc.message}",
            remediation="Restore the files the journal names by hand (the backup folder holds "
            "their copies), then delete .praxis-os/cutover-journal.json.",
        ) from None


def recover(project: Path) -> Recovery:
    """Detect an interrupted cutover and complete it or roll it back.

    Raises:
        JournalError: The journal is unreadable, or a file matches neither the
            backup nor the target.
    """
    removed = remove_stale_temps(_journal_path(project))
    journal = read_journal(project)
    if journal is None:
        removed += remove_stale_temps(project / REGISTRY_FILE)
        return Recovery("none", "no interrupted cutover", removed_temps=[p.name for p in removed])
    states = []
    for path, before, target in journal.sides():
        removed += remove_stale_temps(project / path)
        current = _sha(project, path)
        states.append("target" if current == target else "before" if current == before else path)
    names = [p.name for p in removed]
    backup_id = journal.backup_id
    if journal.state == "rolling_back":
        if any(state != "before" for state in states):
            restore_changes(project, _backup_for(project, journal, "rollback"))
        clear_journal(project)
        return Recovery(
            "rolled_back",
            f"an interrupted rollback to {backup_id} was finished: every file equals the backup",
            backup_id,
            removed_temps=names,
        )
    if all(state == "target" for state in states):
        needs = journal.state != "verified"
        set_journal_state(project, "applied" if needs else "verified")
        detail = "verification follows" if needs else "it was already verified"
        return Recovery(
            "completed",
            f"an interrupted cutover from {backup_id} was completed: the target files are in "
            f"place ({detail})",
            backup_id,
            needs_verification=needs,
            removed_temps=names,
            started_at=journal.started_at,
        )
    neither = [state for state in states if state not in ("target", "before")]
    if neither:
        raise JournalError(
            f"an interrupted cutover from {backup_id} left files that match neither the backup "
            f"nor the target: {', '.join(neither)}"
        )
    if any(state == "target" for state in states):
        restore_changes(project, _backup_for(project, journal, "cutover"))
    else:
        clear_journal(project)
    return Recovery(
        "rolled_back",
        f"an interrupted cutover from {backup_id} was rolled back: every file equals the backup",
        backup_id,
        removed_temps=names,
    )
