"""Talk to the real MCP server as an IDE would: a stdio subprocess and the SDK's client.

Every server the cutover looks at is started fresh with :func:`connect`
(``python -m pos_tool serve --project-root P`` by default); a start that fails
raises :class:`~pos_cutover.exceptions.ServerStartError` carrying what the
server wrote to stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from pos_tool import METRICS_ENV

from .exceptions import ServerStartError

if TYPE_CHECKING:
    from mcp import ClientSession, StdioServerParameters
    from mcp.types import CallToolResult

# The MCP SDK is imported where a server is started, not here: `pos-cutover --help`, `guide`
# and the launcher's defaults need this module but no server, and the SDK's import is most of
# the command's start-up time.

__all__ = [
    "DEFAULT_SERVER_COMMAND",
    "LiveServer",
    "ServerLauncher",
    "ToolCall",
    "connect",
    "open_stdio",
]

DEFAULT_SERVER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "pos_tool", "serve")
"""How the server is started: the project root and log level are appended."""

_STDERR_TAIL = 2000


@dataclass(frozen=True)
class ServerLauncher:
    """How to start the MCP server of a project.

    Attributes:
        command: The command and its leading arguments; ``--project-root P`` and
            ``--log-level L`` are appended.
        startup_timeout: Seconds allowed for the process to answer ``initialize``.
        call_timeout: Seconds allowed for any one request.
        log_level: The server's log level (its log goes to stderr).
        env: Extra environment variables for the server process.
    """

    command: tuple[str, ...] = DEFAULT_SERVER_COMMAND
    startup_timeout: float = 60.0
    call_timeout: float = 120.0
    log_level: str = "WARNING"
    env: Mapping[str, str] = field(default_factory=dict)

    def parameters(self, project: Path, *, durable: bool = True) -> StdioServerParameters:
        """Return the stdio parameters that start the server on ``project``."""
        from mcp import StdioServerParameters  # noqa: PLC0415 - see the imports

        args = [*self.command[1:], "--project-root", str(project), "--log-level", self.log_level]
        if not durable:
            args.append("--no-fsync")
        return StdioServerParameters(
            command=self.command[0],
            args=args,
            # Probe servers record no metrics: their calls are checks, not production traffic.
            env={"PYTHONUNBUFFERED": "1", METRICS_ENV: "off", **self.env},
        )


@dataclass
class ToolCall:
    """One tools/call round trip.

    Attributes:
        tool: The tool called.
        arguments: What was sent.
        payload: The JSON object answered (structured content, else the text parsed
            as JSON, else ``{"text": ...}``).
        is_error: The result's ``is_error`` flag.
        text: The text content.
        ms: Round-trip time in milliseconds.
    """

    tool: str
    arguments: dict[str, Any]
    payload: dict[str, Any]
    is_error: bool
    text: str
    ms: float

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (no is_error and no ``status: error``)."""
        return not self.is_error and self.payload.get("status", "success") == "success"


def _payload(result: CallToolResult) -> tuple[dict[str, Any], str]:
    from mcp.types import TextContent  # noqa: PLC0415 - see the imports

    text = "".join(block.text for block in result.content if isinstance(block, TextContent))
    if isinstance(result.structured_content, dict):
        return dict(result.structured_content), text
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"text": text}, text
    return (parsed if isinstance(parsed, dict) else {"value": parsed}), text


class LiveServer:
    """A connected server: list its tools, call them, time the calls."""

    def __init__(self, session: ClientSession, launcher: ServerLauncher) -> None:
        self.session = session
        self.launcher = launcher

    async def list_tools_wire(self) -> dict[str, Any]:
        """Return the tools/list result exactly as JSON on the wire (camelCase keys)."""
        with anyio.fail_after(self.launcher.call_timeout):
            result = await self.session.list_tools()
        wire: dict[str, Any] = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        return wire

    async def tool_names(self) -> list[str]:
        """Return the names of the listed tools, in the server's order."""
        return [tool["name"] for tool in (await self.list_tools_wire())["tools"]]

    async def call(self, tool: str, arguments: Mapping[str, Any] | None = None) -> ToolCall:
        """Call ``tool`` and return the parsed, timed result (never raises for a tool error)."""
        args = dict(arguments or {})
        began = time.perf_counter()
        with anyio.fail_after(self.launcher.call_timeout):
            result = await self.session.call_tool(tool, args)
        ms = (time.perf_counter() - began) * 1000
        payload, text = _payload(result)
        return ToolCall(tool, args, payload, bool(result.is_error), text, ms)

    async def pos_workflow(self, action: str, **arguments: Any) -> ToolCall:
        """Call ``pos_workflow`` with ``action`` and ``arguments``."""
        return await self.call("pos_workflow", {"action": action, **arguments})


def sole_exception(exc: BaseException) -> BaseException:
    """The one exception inside nested single-member exception groups (task groups wrap)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _tail(stream: Any) -> str:
    stream.seek(0)
    text: str = stream.read()
    return text[-_STDERR_TAIL:]


@asynccontextmanager
async def connect(
    project: Path, launcher: ServerLauncher | None = None, *, durable: bool = True
) -> AsyncIterator[LiveServer]:
    """Start the server on ``project`` over stdio and yield a connected client.

    Args:
        project: The project the server serves.
        launcher: How to start the server (default: ``python -m pos_tool serve``).
        durable: Let the server fsync session writes (turn off for scratch copies only).

    Raises:
        ServerStartError: The process did not start or did not complete the handshake.
    """
    launcher = launcher or ServerLauncher()
    async with open_stdio(launcher.parameters(project, durable=durable), launcher) as server:
        yield server


@asynccontextmanager
async def open_stdio(
    params: StdioServerParameters, launcher: ServerLauncher
) -> AsyncIterator[LiveServer]:
    """Start the process ``params`` describes, as an MCP client would, and yield a connected client.

    Raises:
        ServerStartError: The process did not start or did not complete the handshake.
    """
    from mcp import ClientSession  # noqa: PLC0415 - see the imports
    from mcp.client.stdio import stdio_client  # noqa: PLC0415

    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        started = False
        try:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                with anyio.fail_after(launcher.startup_timeout):
                    await session.initialize()
                started = True
                yield LiveServer(session, launcher)
        except Exception as exc:
            leaf = sole_exception(exc)
            if started:
                raise leaf from None
            reason = f"{type(leaf).__name__}: {leaf}" if str(leaf) else type(leaf).__name__
            raise ServerStartError(f"the server did not start ({reason})", _tail(errlog)) from None


def command_line(launcher: ServerLauncher, project: Path) -> Sequence[str]:
    """Return the server's command line for ``project`` (for messages and the report)."""
    params = launcher.parameters(project)
    return [params.command, *params.args]
