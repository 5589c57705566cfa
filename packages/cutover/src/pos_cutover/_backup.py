"""Backups: everything needed to undo a cutover and to prove nothing was lost.

A backup is a folder ``.praxis-os/backups/cutover-<UTC timestamp>/`` holding

- ``registry.json``: the registry file, byte for byte (or ``registry-none.json``,
  a record that the project had none);
- ``tools-list.json``: the tools/list result of the current server, as wire JSON;
- ``store-inventory.json`` and ``store-snapshot.json``: the session store, taken
  through the store API whatever the backend (see ``pos_cutover._inventory``):
  every session with its version and digest, and a snapshot of the sessions the
  cutover may create (each recorded as absent, or with its record);
- ``state-manifest.json``: every file under ``.praxis-os/.cache/state/`` (the
  legacy session files, which belong to praxis-os) with its size and sha256;
- ``legacy-state/``: a copy of each of those files, byte for byte;
- ``plan.json`` and ``target-registry.json``: what the cutover is about to do;
- ``project-files.json`` and ``project-files/{before,after}/<path>``: every other
  project file the cutover rewrites (praxis config.json, client configs, agent
  instructions): its bytes before and after, and the options that shaped them;
- ``manifest.json``: the sha256 and size of each of the files above, and which
  session store the backup was taken on.

The backup is read back and verified against ``manifest.json`` before anything
changes; each legacy copy must also match its state-manifest entry, and the
snapshot its own checksum. Files written later (``canary.json``,
``legacy-migration.json``, ``verification.json``, the reports) are outputs, not
part of the manifest.

Backups of format 3 and older (pos-cutover before the store API) recorded the file
store's files in the state manifest instead of an inventory: they still verify
and roll back, on the project's file store (:meth:`Backup.inventory` reads the
session ids from their state manifest).
"""

from __future__ import annotations

import contextlib
import json
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pos_engine import (
    FileSessionStore,
    SessionSnapshot,
    SessionStore,
    ValidationError,
    WorkflowRegistry,
    convert_legacy_session_file,
    find_legacy_session_files,
)
from pos_tool import REGISTRY_FILE

from ._changes import (
    PROJECT_FILES,
    PROJECT_FILES_DIR,
    ChangeOptions,
    FileChange,
    ProjectFiles,
    project_file_copies,
)
from ._files import atomic_write, json_bytes, sha256_bytes, sha256_file
from ._inventory import INVENTORY_FILE, SNAPSHOT_FILE, SessionInventory
from ._plan import CutoverPlan
from ._store import StoreSetting
from .exceptions import BackupError

__all__ = [
    "BACKUPS_DIR",
    "LEGACY_COPY_DIR",
    "LEGACY_STATE_DIR",
    "MANIFEST",
    "PROJECT_FILES",
    "PROJECT_FILES_DIR",
    "STATE_DIRS",
    "Backup",
    "backup_size_estimate",
    "find_backup",
    "list_backups",
    "new_backup_folder",
    "read_registry",
    "state_manifest",
    "verify_backup",
    "write_backup",
]

BACKUPS_DIR = ".praxis-os/backups"
"""Where backups are written, relative to the project."""

LEGACY_STATE_DIR = ".praxis-os/.cache/state"
"""Where legacy (praxis-style) servers kept their session files, relative to the project."""

STATE_DIRS: tuple[str, ...] = (LEGACY_STATE_DIR,)
"""Folders the state manifest records file by file: the legacy session files only (the
session store is recorded through its API, see ``pos_cutover._inventory``)."""

LEGACY_COPY_DIR = "legacy-state"
"""The backup's copy of :data:`LEGACY_STATE_DIR`, relative to the backup folder."""

MANIFEST_VERSION = 4
"""Version 2 added the legacy copies, version 3 the project files, version 4 the session store
through its API (inventory and snapshot) in place of the file store's files in the state
manifest. Older backups still verify and roll back (on the project's file store)."""

MANIFEST = "manifest.json"
REGISTRY_COPY = "registry.json"
REGISTRY_NONE = "registry-none.json"
TOOLS_LIST = "tools-list.json"
STATE_MANIFEST = "state-manifest.json"
PLAN_COPY = "plan.json"
TARGET_COPY = "target-registry.json"
CANARY = "canary.json"

_TOOLS_LIST_ALLOWANCE = 256 * 1024
_PER_STATE_FILE = 256
_PER_SESSION = 256
_FIXED_ALLOWANCE = 64 * 1024


def utc_stamp(now: datetime | None = None) -> str:
    """Return an ISO 8601 UTC timestamp (seconds)."""
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def read_registry(project: Path) -> bytes | None:
    """Return the registry file's bytes, or None when the project has none."""
    try:
        return (project / REGISTRY_FILE).read_bytes()
    except FileNotFoundError:
        return None


def _state_files(project: Path) -> list[Path]:
    files: list[Path] = []
    for folder in STATE_DIRS:
        root = project / folder
        if root.is_dir():
            files.extend(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return sorted(files)


def state_manifest(project: Path) -> dict[str, Any]:
    """Return the manifest of the session state folders: every file with size and sha256.

    A file that vanishes while the manifest is taken (a live server's temp file)
    is skipped.
    """
    entries = []
    for path in _state_files(project):
        try:
            size = path.stat().st_size
            digest = sha256_file(path)
        except FileNotFoundError:
            continue
        entries.append(
            {"path": path.relative_to(project).as_posix(), "size": size, "sha256": digest}
        )
    roots = [folder for folder in STATE_DIRS if (project / folder).is_dir()]
    return {"version": 2, "roots": roots, "count": len(entries), "files": entries}


def _format3_inventory(state: dict[str, Any]) -> SessionInventory:
    """The sessions a backup of format 3 or older recorded: the file store's records in its state
    manifest (their ids, without versions or digests)."""
    prefix = FileSessionStore.project_state_dir(PurePosixPath()).as_posix() + "/"
    paths = [str(entry["path"]) for entry in state["files"]]
    ids = [
        name.removesuffix(".json")
        for path in paths
        if path.startswith(prefix)
        and (name := path[len(prefix) :]).endswith(".json")
        and "/" not in name
        and not name.startswith(".")
    ]
    return SessionInventory(dict.fromkeys(sorted(ids), (None, None)), store="file store")


def _legacy_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The state-manifest entries of the legacy session folder."""
    prefix = LEGACY_STATE_DIR + "/"
    return [e for e in manifest["files"] if e["path"].startswith(prefix)]


def legacy_copy_name(path: str) -> str:
    """Return the backup's name for the copy of the legacy state file ``path`` (project-relative)."""
    return f"{LEGACY_COPY_DIR}/{path[len(LEGACY_STATE_DIR) + 1 :]}"


def backup_size_estimate(project: Path, sessions: int = 0) -> int:
    """Return a generous estimate of the bytes a backup of ``project`` will take.

    Args:
        project: The project.
        sessions: How many sessions its store holds (each takes a line of the inventory).
    """
    registry = read_registry(project)
    files = _state_files(project)
    legacy_root = project / LEGACY_STATE_DIR
    legacy = 0
    for path in files:
        if path.is_relative_to(legacy_root):
            with contextlib.suppress(OSError):
                legacy += path.stat().st_size
    return (
        (len(registry or b"") * 2)
        + _TOOLS_LIST_ALLOWANCE
        + _FIXED_ALLOWANCE
        + _PER_STATE_FILE * len(files)
        + _PER_SESSION * sessions
        + legacy * 3  # the copies, and the snapshot of the sessions they may become
    )


@dataclass
class Backup:
    """A verified backup.

    Attributes:
        path: The backup folder.
        backup_id: Its name (``cutover-<UTC timestamp>``).
        created_at: When it was taken (ISO 8601, UTC).
        registry_existed: Whether the project had a registry file.
        registry_sha256: The registry's sha256 (None when there was none).
        registry_mode: The registry's permission bits (None when there was none).
        tools: Tool names the server listed before the cutover.
        state_files: How many state files the manifest records.
        legacy_files: How many of them are legacy session state (copied into ``legacy-state/``).
        plan: The plan the backup was taken for (file format).
        project_name: The project folder's name.
        format_version: The manifest's version (see :data:`MANIFEST_VERSION`).
        store_setting: The store URL it was taken on, password removed (None: the
            project's file store).
        store_where: Where the sessions were (the store's ``describe()``).
        sessions: How many sessions the store held.
    """

    path: Path
    backup_id: str
    created_at: str
    registry_existed: bool
    registry_sha256: str | None
    registry_mode: int | None
    tools: list[str] = field(default_factory=list)
    state_files: int = 0
    legacy_files: int = 0
    plan: dict[str, Any] = field(default_factory=dict)
    project_name: str = ""
    format_version: int = MANIFEST_VERSION
    store_setting: str | None = None
    store_where: str = ""
    sessions: int = 0

    def registry_bytes(self) -> bytes | None:
        """Return the backed-up registry bytes (None when the project had none)."""
        return (self.path / REGISTRY_COPY).read_bytes() if self.registry_existed else None

    def target_bytes(self) -> bytes:
        """Return the target registry bytes recorded with the backup."""
        return (self.path / TARGET_COPY).read_bytes()

    def state(self) -> dict[str, Any]:
        """Return the state manifest."""
        data: dict[str, Any] = json.loads((self.path / STATE_MANIFEST).read_text(encoding="utf-8"))
        return data

    def inventory(self) -> SessionInventory:
        """Every session the store held at the backup (ids only for a backup of format 3)."""
        if self.format_version < 4:
            return _format3_inventory(self.state())
        data = json.loads((self.path / INVENTORY_FILE).read_text(encoding="utf-8"))
        return SessionInventory.from_dict(data)

    def snapshot(self, session_ids: list[str] | None = None) -> SessionSnapshot:
        """The stored state, at the backup, of the sessions the cutover may create.

        Args:
            session_ids: Restrict it to these ids; an id the snapshot does not record is
                recorded absent unless the inventory holds it (then it is left out: the
                backup has its version, not its record). None: the whole snapshot.
        """
        if self.format_version < 4:
            taken = SessionSnapshot(records={}, taken_at=self.created_at)
        else:
            data = json.loads((self.path / SNAPSHOT_FILE).read_text(encoding="utf-8"))
            taken = SessionSnapshot.from_dict(data)
        if session_ids is None:
            return taken
        existing = self.inventory().ids
        records = {
            sid: taken.records.get(sid)
            for sid in session_ids
            if sid in taken.records or sid not in existing
        }
        return SessionSnapshot(records=records, taken_at=taken.taken_at)

    def tools_wire(self) -> dict[str, Any]:
        """Return the tools/list wire JSON recorded before the cutover."""
        data: dict[str, Any] = json.loads((self.path / TOOLS_LIST).read_text(encoding="utf-8"))
        return data

    def project_files(self) -> ProjectFiles:
        """The other project files this cutover rewrites, and how (see ``_changes``)."""
        return ProjectFiles.read(self.path)

    def changes(self) -> list[FileChange]:
        """Return the project files this cutover rewrites, with their bytes before and after."""
        return self.project_files().changes(self.path)

    def praxis(self) -> dict[str, Any]:
        """What becomes of the praxis server: mode, groups before and kept, tools lost."""
        return self.project_files().praxis

    def absent_dirs(self) -> list[str]:
        """Folders that did not exist before the cutover wrote into them (deepest first)."""
        return self.project_files().absent_dirs

    def options(self) -> ChangeOptions:
        """Return the options the backup's project-file changes were planned with."""
        return self.project_files().options

    def canary(self) -> dict[str, Any] | None:
        """Return the canary session record, if one was started."""
        path = self.path / CANARY
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def write_output(self, name: str, data: bytes) -> Path:
        """Write an output file (verification, report) into the backup folder."""
        path = self.path / name
        atomic_write(path, data, mode=0o600)
        return path

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able summary."""
        return {
            "backup_id": self.backup_id,
            "path": str(self.path),
            "created_at": self.created_at,
            "registry_existed": self.registry_existed,
            "registry_sha256": self.registry_sha256,
            "tools": self.tools,
            "state_files": self.state_files,
            "legacy_files": self.legacy_files,
            "store": self.store_where,
            "store_setting": self.store_setting,
            "sessions": self.sessions,
        }


def list_backups(project: Path) -> list[Path]:
    """Return the project's backup folders that have a manifest, oldest first."""
    root = project / BACKUPS_DIR
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir() if p.name.startswith("cutover-") and (p / MANIFEST).is_file()
    )


def find_backup(project: Path, backup_id: str | None = None) -> Backup:
    """Return the verified backup ``backup_id``, or the newest one when None.

    Raises:
        BackupError: There is no such backup, or it fails verification.
    """
    folders = list_backups(project)
    if backup_id is None:
        if not folders:
            raise BackupError(
                f"no backup under {BACKUPS_DIR}", remediation="Take one with `pos-cutover backup`."
            )
        return verify_backup(folders[-1])
    chosen = [p for p in folders if p.name == backup_id]
    if not chosen:
        known = ", ".join(p.name for p in folders) or "none"
        raise BackupError(f"no backup {backup_id!r} under {BACKUPS_DIR} (backups: {known})")
    return verify_backup(chosen[0])


def new_backup_folder(project: Path, now: datetime | None = None) -> Path:
    """Create and return a new, empty backup folder named after the UTC time."""
    root = project / BACKUPS_DIR
    root.mkdir(parents=True, exist_ok=True)
    base = "cutover-" + (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for suffix in range(1, 1000):
        path = root / (base if suffix == 1 else f"{base}-{suffix}")
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return path
    raise BackupError(f"too many backups named {base!r}")  # pragma: no cover - 999 in one second


def write_backup(
    project: Path,
    folder: Path,
    plan: CutoverPlan,
    tools_wire: dict[str, Any],
    *,
    store: StoreSetting | None = None,
    touched: Iterable[str] | None = None,
    changes: list[FileChange] | None = None,
    options: ChangeOptions | None = None,
    praxis: dict[str, Any] | None = None,
) -> Backup:
    """Write the backup files and the manifest into ``folder``, then read it back and verify it.

    Args:
        project: The project.
        folder: The new, empty backup folder.
        plan: The cutover plan.
        tools_wire: The current server's tools/list answer.
        store: The session store (default: the project's file store).
        touched: Ids of the sessions the cutover may create, recorded in the store
            snapshot (default: the id of each legacy session file found now).
        changes: The other project files the cutover will rewrite (planned whole).
        options: The options those changes were planned with.
        praxis: What becomes of the praxis server (mode, groups kept, tools lost).

    Raises:
        BackupError: A file could not be written, or the read-back disagrees.
        StoreError: The session store cannot be read.
    """
    registry_path = project / REGISTRY_FILE
    registry = read_registry(project)
    files: dict[str, bytes] = {}
    registry_record: dict[str, Any] = {"file": REGISTRY_FILE, "existed": registry is not None}
    if registry is None:
        files[REGISTRY_NONE] = json_bytes({"file": REGISTRY_FILE, "existed": False})
    else:
        files[REGISTRY_COPY] = registry
        registry_record |= {
            "sha256": sha256_bytes(registry),
            "size": len(registry),
            "mode": stat.S_IMODE(registry_path.stat().st_mode),
        }
    files[TOOLS_LIST] = json_bytes(tools_wire)
    setting = store or StoreSetting()
    ids = legacy_session_ids(project) if touched is None else list(touched)
    inventory, snapshot, where = _store_records(project, setting, ids)
    files[INVENTORY_FILE] = json_bytes(inventory.to_dict())
    files[SNAPSHOT_FILE] = json_bytes(snapshot.to_dict())
    state = state_manifest(project)
    files[STATE_MANIFEST] = json_bytes(state)
    files |= _legacy_copies(project, state)
    files[PLAN_COPY] = json_bytes(plan.to_dict())
    files[TARGET_COPY] = plan.target_bytes()
    if changes or options is not None or praxis is not None:
        files |= project_file_copies(project, changes or [], options, praxis, REGISTRY_FILE)
    try:
        for name, data in files.items():
            atomic_write(folder / name, data, mode=0o600)
        manifest = {
            "version": MANIFEST_VERSION,
            "backup_id": folder.name,
            "created_at": utc_stamp(),
            "project": project.resolve().name,
            "registry": registry_record,
            "store": {"setting": setting.identity, "where": where},
            "files": {
                name: {"sha256": sha256_bytes(data), "size": len(data)}
                for name, data in files.items()
            },
        }
        atomic_write(folder / MANIFEST, json_bytes(manifest), mode=0o600)
    except OSError as exc:
        raise BackupError(
            f"cannot write the backup {folder.name} ({exc.strerror or type(exc).__name__})",
            remediation="Free space or fix permissions under .praxis-os/backups, then run again.",
        ) from None
    return verify_backup(folder)


def legacy_session_ids(project: Path) -> list[str]:
    """The session id each legacy session file would be migrated to (files without one left out)."""
    files = find_legacy_session_files(project)
    if not files:
        return []
    registry = WorkflowRegistry(project)
    ids = (convert_legacy_session_file(path, registry)[1].session_id for path in files)
    return list(dict.fromkeys(sid for sid in ids if sid))


def _store_records(
    project: Path, setting: StoreSetting, touched: Iterable[str]
) -> tuple[SessionInventory, SessionSnapshot, str]:
    """The inventory of the store, the snapshot of the ``touched`` sessions, where they are."""
    now = utc_stamp()
    with setting.existing(project) as opened:
        if opened is None:  # the project's file store does not exist yet: no sessions
            where = "the project's file store (no sessions yet)"
            snapshot = SessionSnapshot(records=dict.fromkeys(touched), taken_at=now)
            return SessionInventory(store=where, taken_at=now), snapshot, where
        return _taken(opened, touched, now)


def _taken(
    store: SessionStore, touched: Iterable[str], now: str
) -> tuple[SessionInventory, SessionSnapshot, str]:
    inventory = SessionInventory.take(store, now)
    snapshot = store.snapshot(touched)
    return inventory, snapshot, store.describe()


def _legacy_copies(project: Path, state: dict[str, Any]) -> dict[str, bytes]:
    """Read every legacy state file of the manifest once, checking it against its entry."""
    copies: dict[str, bytes] = {}
    for entry in _legacy_entries(state):
        try:
            data = (project / entry["path"]).read_bytes()
        except OSError as exc:
            data, reason = b"", exc.strerror or type(exc).__name__
        else:
            reason = "" if sha256_bytes(data) == entry["sha256"] else "it changed"
        if reason:
            raise BackupError(
                f"cannot copy the legacy session file {entry['path']} ({reason}) "
                "while the backup was taken",
                remediation="Stop whatever writes .praxis-os/.cache/state (a legacy server), "
                "then run again.",
            )
        copies[legacy_copy_name(entry["path"])] = data
    return copies


def _load_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(
            f"backup {folder.name}: manifest.json is unreadable ({type(exc).__name__})"
        ) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("files"), dict)
        or "registry" not in data
    ):
        raise BackupError(f"backup {folder.name}: manifest.json is not a backup manifest")
    return data


def _safe_name(folder: Path, name: str) -> bool:
    """A top-level file name, or a path inside ``legacy-state/`` or ``project-files/`` in the folder."""
    parts = PurePosixPath(name).parts
    if name.startswith(".") or "\\" in name or not parts or any(p in {"..", "."} for p in parts):
        return False
    if len(parts) > 1 and parts[0] not in (LEGACY_COPY_DIR, PROJECT_FILES_DIR):
        return False
    return (folder / name).resolve().is_relative_to(folder.resolve())


def _file_problems(folder: Path, files: dict[str, Any]) -> list[str]:
    problems = []
    for name, expected in sorted(files.items()):
        path = folder / name
        if not _safe_name(folder, name):
            problems.append(f"{name}: not a file name")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != expected.get("size"):
            problems.append(
                f"{name}: size {path.stat().st_size} != {expected.get('size')} in the manifest"
            )
        elif sha256_file(path) != expected.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest (changed after the backup)")
    return problems


def _legacy_copy_problems(files: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Every legacy state file of the state manifest has its copy, with the same sha256."""
    problems = []
    for entry in _legacy_entries(state):
        name = legacy_copy_name(entry["path"])
        recorded = files.get(name)
        if recorded is None:
            problems.append(f"{name}: the copy of {entry['path']} is not recorded in the manifest")
        elif recorded.get("sha256") != entry["sha256"]:
            problems.append(f"{name}: the copy differs from {entry['path']} in the state manifest")
    return problems


def verify_backup(folder: Path) -> Backup:
    """Read a backup back and check every file against ``manifest.json``.

    Raises:
        BackupError: A file is missing, has another size or checksum, or the
            registry record is inconsistent; every problem is listed.
    """
    manifest = _load_manifest(folder)
    files: dict[str, Any] = manifest["files"]
    problems = _file_problems(folder, files)
    registry = manifest["registry"]
    existed = bool(registry.get("existed"))
    version = int(manifest.get("version", 1))
    needed = (
        REGISTRY_COPY if existed else REGISTRY_NONE,
        TOOLS_LIST,
        STATE_MANIFEST,
        PLAN_COPY,
        TARGET_COPY,
        *((INVENTORY_FILE, SNAPSHOT_FILE) if version >= 4 else ()),
    )
    problems += [f"{name}: not recorded in the manifest" for name in needed if name not in files]
    if existed and files.get(REGISTRY_COPY, {}).get("sha256") != registry.get("sha256"):
        problems.append("registry.json: the manifest's registry record and file entry disagree")
    state: dict[str, Any] = {"files": [], "count": 0}
    if STATE_MANIFEST in files and not problems:
        state = json.loads((folder / STATE_MANIFEST).read_text(encoding="utf-8"))
        if version >= 2:
            problems += _legacy_copy_problems(files, state)
    inventory = SessionInventory()
    if version >= 4 and not problems:
        inventory, store_problems = _store_files(folder)
        problems += store_problems
    if PROJECT_FILES in files and not problems:
        record = ProjectFiles.read(folder)
        unsafe = [name for name in record.copy_names() if not _safe_name(folder, name)]
        problems += [f"{name}: not a file name" for name in unsafe] or record.problems(files)
    if problems:
        raise BackupError(f"backup {folder.name} failed verification", problems)
    tools_wire = json.loads((folder / TOOLS_LIST).read_text(encoding="utf-8"))
    store = manifest.get("store") if version >= 4 else None
    if version < 4:
        inventory = _format3_inventory(state)
    return Backup(
        path=folder,
        backup_id=folder.name,
        created_at=str(manifest.get("created_at", "")),
        registry_existed=existed,
        registry_sha256=registry.get("sha256") if existed else None,
        registry_mode=registry.get("mode") if existed else None,
        tools=[tool["name"] for tool in tools_wire.get("tools", [])],
        state_files=int(state.get("count", 0)),
        legacy_files=len(_legacy_entries(state)),
        plan=json.loads((folder / PLAN_COPY).read_text(encoding="utf-8")),
        project_name=str(manifest.get("project", "")),
        format_version=version,
        store_setting=store.get("setting") if isinstance(store, dict) else None,
        store_where=str(store.get("where", "")) if isinstance(store, dict) else inventory.store,
        sessions=len(inventory.ids),
    )


def _store_files(folder: Path) -> tuple[SessionInventory, list[str]]:
    """Read the inventory and the snapshot back; the snapshot must match its own checksum."""
    problems = []
    inventory = SessionInventory()
    try:
        inventory = SessionInventory.from_dict(
            json.loads((folder / INVENTORY_FILE).read_text(encoding="utf-8"))
        )
    except ValueError as exc:
        problems.append(f"{INVENTORY_FILE}: {exc}")
    try:
        SessionSnapshot.from_dict(json.loads((folder / SNAPSHOT_FILE).read_text(encoding="utf-8")))
    except ValidationError as exc:
        problems.append(f"{SNAPSHOT_FILE}: {exc.message}")
    except ValueError as exc:
        problems.append(f"{SNAPSHOT_FILE}: not JSON ({exc})")
    return inventory, problems
