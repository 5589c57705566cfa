"""Project files a cutover changes besides the tool registry, and the options that shape them.

On a praxis-os project the cutover also edits ``.praxis-os/config.json`` (the
praxis server's tool groups), the IDE/client configs that launch or reach the
praxis server, and, when asked, the agent instructions that name old tools. Each
edit is planned whole before anything changes (a :class:`FileChange`: the bytes
before and after), stored in the backup, applied under the journal, and undone
byte for byte by a rollback.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ._files import json_bytes, sha256_bytes

__all__ = [
    "DEFAULT_HTTP_URL",
    "PROJECT_FILES",
    "PROJECT_FILES_DIR",
    "ChangeKind",
    "ChangeOptions",
    "FileChange",
    "ProjectFiles",
    "default_client_command",
    "project_file_copies",
]

DEFAULT_HTTP_URL = "http://127.0.0.1:8765/mcp"
"""Where a client reaches ``pos-workflow serve --transport http`` with its default port."""

PROJECT_FILES = "project-files.json"
"""The backup's record of the project files the cutover rewrites (and its options)."""

PROJECT_FILES_DIR = "project-files"
"""The backup's copies of those files: ``before/<path>`` and ``after/<path>``."""

ChangeKind = Literal["praxis-config", "client", "instructions"]


def default_client_command() -> tuple[str, ...]:
    """The command client configs get to start pos-workflow: this environment's, by absolute path.

    GUI clients (Cursor, VS Code, Claude Desktop) do not inherit a shell's PATH, so
    a bare ``pos-workflow`` or ``uvx`` may not be found there; the ``pos-workflow``
    script next to the running interpreter is found without PATH.
    """
    script = Path(sys.executable).parent / "pos-workflow"
    if script.is_file():
        return (str(script),)
    found = shutil.which("pos-workflow")
    return (found,) if found else (sys.executable, "-m", "pos_tool")


@dataclass(frozen=True)
class ChangeOptions:
    """How the cutover treats the praxis server, its clients and the agent instructions.

    Attributes:
        remove_praxis_server: Switch clients away from the praxis server instead of
            keeping it for its rag and browser tools (those are then lost).
        rewrite_instructions: Rewrite old tool calls in agent instructions.
        client_command: The command client entries launch (``serve --project-root``
            is appended); default: :func:`default_client_command`.
        client_transport: ``same``: an entry that reached praxis over HTTP reaches
            pos-workflow over HTTP; ``stdio``: every new entry launches pos-workflow.
        http_url: The pos-workflow URL written into HTTP entries.
        spec_map: Spec folders of legacy dynamic sessions to replace (``--spec-map``):
            pairs of the folder a session named and the folder to use, project-relative.
    """

    remove_praxis_server: bool = False
    rewrite_instructions: bool = False
    client_command: tuple[str, ...] = ()
    client_transport: Literal["same", "stdio"] = "same"
    http_url: str = DEFAULT_HTTP_URL
    spec_map: tuple[tuple[str, str], ...] = ()

    def command(self) -> tuple[str, ...]:
        """The client command, defaulted."""
        return self.client_command or default_client_command()

    def to_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-able dict."""
        data = asdict(self)
        data["client_command"] = list(self.command())
        data["spec_map"] = dict(self.spec_map)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChangeOptions:
        """Rebuild options from :meth:`to_dict` output."""
        return cls(
            remove_praxis_server=bool(data.get("remove_praxis_server", False)),
            rewrite_instructions=bool(data.get("rewrite_instructions", False)),
            client_command=tuple(data.get("client_command", ())),
            client_transport=data.get("client_transport", "same"),
            http_url=str(data.get("http_url", DEFAULT_HTTP_URL)),
            spec_map=tuple((str(k), str(v)) for k, v in dict(data.get("spec_map", {})).items()),
        )


@dataclass
class FileChange:
    """One project file the cutover rewrites (planned whole before anything changes).

    Attributes:
        path: The file, relative to the project (POSIX).
        kind: praxis-config, client or instructions.
        before: Its bytes before the cutover (None: it did not exist).
        after: Its bytes after the cutover.
        mode: Permission bits the new bytes are written with (the file's own when it exists).
        summary: What changes, one phrase each.
        entries: For a client config: the entries that now launch or reach pos-workflow
            (``{"name", "transport", "section"}``), which verification starts.
    """

    path: str
    kind: ChangeKind
    before: bytes | None
    after: bytes
    mode: int = 0o644
    summary: list[str] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """Return the change without its bytes (the backup stores those as files)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "existed": self.before is not None,
            "mode": self.mode,
            "summary": self.summary,
            "entries": self.entries,
        }


def _copy_name(side: str, path: str) -> str:
    """The backup's name for the ``before``/``after`` copy of the project file ``path``."""
    return f"{PROJECT_FILES_DIR}/{side}/{path}"


def _absent_dirs(project: Path, written: list[str]) -> list[str]:
    """Folders the cutover's writes will create (deepest first); a rollback removes them if empty."""
    absent = set()
    for path in written:
        for parent in PurePosixPath(path).parents:
            if str(parent) != "." and not (project / parent).exists():
                absent.add(parent.as_posix())
    return sorted(absent, key=lambda p: (-p.count("/"), p))


def project_file_copies(
    project: Path,
    changes: list[FileChange],
    options: ChangeOptions | None,
    praxis: dict[str, Any] | None,
    registry: str,
) -> dict[str, bytes]:
    """The files a backup holds for ``changes``: each copy, and :data:`PROJECT_FILES`.

    Args:
        project: The project (to know which folders the writes will create).
        changes: The planned changes.
        options: The options they were planned with.
        praxis: What becomes of the praxis server.
        registry: The registry file, which the cutover writes too.
    """
    files: dict[str, bytes] = {}
    records = []
    for change in changes:
        if change.before is not None:
            files[_copy_name("before", change.path)] = change.before
        files[_copy_name("after", change.path)] = change.after
        record = change.record()
        record["before_sha256"] = sha256_bytes(change.before) if change.before is not None else None
        record["after_sha256"] = sha256_bytes(change.after)
        records.append(record)
    files[PROJECT_FILES] = json_bytes(
        {
            "version": 1,
            "options": (options or ChangeOptions()).to_dict(),
            "praxis": praxis or {},
            "changes": records,
            "absent_dirs": _absent_dirs(project, [registry, *(c.path for c in changes)]),
        }
    )
    return files


@dataclass(frozen=True)
class ProjectFiles:
    """A backup's record of the project files its cutover rewrites (empty for older backups)."""

    data: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> ProjectFiles:
        """Read the record of the backup ``folder``."""
        path = folder / PROJECT_FILES
        if not path.exists():
            return cls({})
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls(data)

    @property
    def options(self) -> ChangeOptions:
        """The options the changes were planned with."""
        return ChangeOptions.from_dict(self.data.get("options", {}))

    @property
    def praxis(self) -> dict[str, Any]:
        """What becomes of the praxis server: mode, groups before and kept, tools lost."""
        found: dict[str, Any] = self.data.get("praxis", {})
        return found

    @property
    def absent_dirs(self) -> list[str]:
        """Folders that did not exist before the cutover wrote into them (deepest first)."""
        return list(self.data.get("absent_dirs", []))

    def copy_names(self) -> list[str]:
        """The names of every copy the record implies, relative to the backup folder."""
        names = []
        for record in self.data.get("changes", []):
            sides = ("before", "after") if record.get("existed") else ("after",)
            names += [_copy_name(side, str(record.get("path"))) for side in sides]
        return names

    def changes(self, folder: Path) -> list[FileChange]:
        """The planned changes, their bytes read from the backup ``folder``."""
        changes = []
        for record in self.data.get("changes", []):
            existed = record["existed"]
            before = (
                (folder / _copy_name("before", record["path"])).read_bytes() if existed else None
            )
            after = (folder / _copy_name("after", record["path"])).read_bytes()
            change = FileChange(
                record["path"],
                record["kind"],
                before,
                after,
                int(record["mode"]),
                record["summary"],
            )
            change.entries = list(record.get("entries", []))
            changes.append(change)
        return changes

    def problems(self, files: dict[str, Any]) -> list[str]:
        """Every copy the record implies is in the manifest ``files`` with the recorded sha256."""
        problems = []
        for record in self.data.get("changes", []):
            for side in ("before", "after") if record.get("existed") else ("after",):
                name = _copy_name(side, str(record.get("path")))
                if files.get(name, {}).get("sha256") != record.get(f"{side}_sha256"):
                    problems.append(
                        f"{name}: the copy of {record.get('path')} is not the one recorded"
                    )
        return problems
