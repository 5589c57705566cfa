"""Project files a cutover changes besides the tool registry, and the options that shape them.

On a praxis-os project the cutover also edits ``.praxis-os/config.json`` (the
praxis server's tool groups), the IDE/client configs that launch or reach the
praxis server, and, when asked, the agent instructions that name old tools. Each
edit is planned whole before anything changes (a :class:`FileChange`: the bytes
before and after), stored in the backup, applied under the journal, and undone
byte for byte by a rollback.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_HTTP_URL",
    "ChangeKind",
    "ChangeOptions",
    "FileChange",
    "default_client_command",
]

DEFAULT_HTTP_URL = "http://127.0.0.1:8765/mcp"
"""Where a client reaches ``pos-workflow serve --transport http`` with its default port."""

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
    """

    remove_praxis_server: bool = False
    rewrite_instructions: bool = False
    client_command: tuple[str, ...] = ()
    client_transport: Literal["same", "stdio"] = "same"
    http_url: str = DEFAULT_HTTP_URL

    def command(self) -> tuple[str, ...]:
        """The client command, defaulted."""
        return self.client_command or default_client_command()

    def to_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-able dict."""
        data = asdict(self)
        data["client_command"] = list(self.command())
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
