"""Start each rewritten client entry the way its IDE would, and see that pos-workflow answers.

A client entry that names a command the IDE cannot find is the most common way a
cutover "works" and the IDE still shows no tool. Verification therefore reads
every entry the cutover wrote (from the config as it is now), fills in the
project-root variable, and starts it with the environment a GUI client gives its
servers: the entry's own ``env`` over a minimal ``PATH`` (:data:`GUI_PATH`; Cursor,
VS Code or Claude Desktop started from a dock or menu do not inherit a shell's
PATH, so ``uv``, ``uvx`` or ``pos-workflow`` from ``~/.local/bin`` are not found).
The entry passes when the server lists ``pos_workflow``.

An HTTP entry is asked over streamable HTTP when something listens at its URL;
when nothing does, that is a warning (someone has to start the server), not a
failure of the cutover.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from pos_tool import METRICS_ENV

from ._backup import Backup
from ._clients import resolve_root
from ._jsonedit import JsonEditError, parse
from ._server import ServerLauncher, open_stdio
from .exceptions import ServerStartError

__all__ = ["GUI_PATH", "ClientCheck", "check_client_entries"]

GUI_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
"""The PATH a GUI client gives the servers it starts (what macOS gives apps from the Dock)."""

_HTTP_TIMEOUT = 10.0


@dataclass
class ClientCheck:
    """How one client entry written by the cutover answered.

    Attributes:
        file: The config file.
        name: The entry.
        transport: stdio or http.
        target: The command line, or the URL.
        ok: pos_workflow was listed.
        tools: The tools listed.
        detail: What went wrong, or why it was not asked.
        skipped: Not asked (nothing listens at the URL, or variables only the client fills in).
    """

    file: str
    name: str
    transport: str
    target: str = ""
    ok: bool = False
    tools: list[str] = field(default_factory=list)
    detail: str = ""
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the check as a JSON-able dict."""
        return asdict(self)


def _entry(project: Path, file: str, section: str, name: str) -> dict[str, Any] | None:
    try:
        root = parse((project / file).read_text(encoding="utf-8"), file).value
    except (OSError, UnicodeDecodeError, JsonEditError):
        return None
    table = root.get(section) if isinstance(root, dict) else None
    entry = table.get(name) if isinstance(table, dict) else None
    return entry if isinstance(entry, dict) else None


async def _stdio(
    check: ClientCheck, entry: dict[str, Any], project: Path, launcher: ServerLauncher
) -> None:
    command = resolve_root(str(entry.get("command", "")), project)
    args = [resolve_root(str(a), project) for a in entry.get("args") or []]
    raw_env = entry.get("env")
    own = raw_env.items() if isinstance(raw_env, dict) else ()
    env = {"PATH": GUI_PATH, **{str(k): resolve_root(str(v), project) for k, v in own}}
    env.setdefault(METRICS_ENV, "off")  # a check, not production traffic
    check.target = " ".join([command, *args])
    left = [w for w in [command, *args, *env.values()] if "${" in w]
    if left:
        check.skipped = True
        check.detail = f"not started: it uses variables only the client fills in ({left[0]})"
        return
    from mcp import StdioServerParameters  # noqa: PLC0415 - imported where a server starts

    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(project))
    try:
        async with open_stdio(params, launcher) as server:
            check.tools = await server.tool_names()
    except ServerStartError as exc:
        check.detail = (
            f"{exc.message.splitlines()[0][:300]}; a GUI client starts it with PATH={GUI_PATH}: "
            "use an absolute path to pos-workflow (see Troubleshooting)"
        )
        return
    check.ok = "pos_workflow" in check.tools
    if not check.ok:
        check.detail = f"it starts, but lists {check.tools} without pos_workflow"


def _listening(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


async def _http(check: ClientCheck, entry: dict[str, Any]) -> None:
    url = str(entry.get("url") or entry.get("serverUrl") or "")
    check.target = url
    # A blocking connect (up to 1 s) must not hold up the entries checked beside this one.
    if not await anyio.to_thread.run_sync(_listening, url):
        check.skipped = True
        check.detail = (
            f"nothing answers at {url} now; start `pos-workflow serve --transport http` there "
            "for this client (or cut over with --client-transport stdio)"
        )
        return
    from mcp import ClientSession  # noqa: PLC0415 - imported where a server is reached
    from mcp.client.streamable_http import streamable_http_client  # noqa: PLC0415

    try:
        with anyio.fail_after(_HTTP_TIMEOUT):
            async with (
                streamable_http_client(url) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                listed = await session.list_tools()
    except Exception as exc:  # anything the transport raises: the entry does not answer
        check.detail = f"{url} does not answer as an MCP server ({type(exc).__name__})"
        return
    check.tools = [tool.name for tool in listed.tools]
    check.ok = "pos_workflow" in check.tools
    if not check.ok:
        check.detail = f"{url} answers, but lists {check.tools} without pos_workflow"


async def check_client_entries(
    project: Path, backup: Backup, launcher: ServerLauncher
) -> list[ClientCheck]:
    """Start (or ask) every client entry the backup's cutover wrote; one check each, in order.

    The entries are checked at once: each starts its own server, and a start is mostly
    imports, which two cores run side by side.
    """
    checks = []
    async with anyio.create_task_group() as group:
        for change in backup.changes():
            for written in change.entries:
                check = ClientCheck(change.path, written["name"], written["transport"])
                checks.append(check)
                entry = _entry(project, change.path, written["section"], written["name"])
                if entry is None:
                    check.detail = f"the entry {written['name']!r} is not in {change.path} any more"
                elif written["transport"] == "http":
                    group.start_soon(_http, check, entry)
                else:
                    group.start_soon(_stdio, check, entry, project, launcher)
    return checks
