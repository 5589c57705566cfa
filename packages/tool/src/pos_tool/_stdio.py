"""The stdio transport, with an answer for every request line.

The MCP SDK's stdio reader drops a line it cannot parse (invalid JSON, a lone
surrogate escape, nesting beyond its parser's limit, a message of the wrong shape):
the client then waits forever for an answer. This module reads stdin itself and
checks each line the way the SDK's parser will; a bad line gets a JSON-RPC error
(-32700 parse error, -32600 invalid request) with the request's id when one can be
recovered, written through the SDK's own writer so frames never interleave. Good
lines go on to the SDK unchanged. A line longer than :data:`MAX_LINE_BYTES` is
answered and skipped without being held in memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
import anyio.to_thread
import mcp_types as types
import pydantic_core
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

__all__ = ["MAX_LINE_BYTES", "check_line", "serve_stdio"]

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024 * 1024
"""Longest request line read: a 10 MB evidence plus its JSON-RPC envelope, with room."""

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_READ_CHUNK = 256 * 1024
# Where an id sits near the start of a line that does not parse: `"id": 12` or `"id": "a-1"`.
# The value must be complete (a number followed by , or }): a line cut inside its id must
# not be answered under a shorter id that may belong to another request.
_ID_PREFIX = re.compile(
    rb'"id"\s{0,16}:\s{0,16}(-?\d{1,18}(?=\s{0,16}[,}])|"(?:[^"\\\n]|\\.){0,256}")'
)


def _recover_id(raw: bytes) -> int | str | None:
    """Return the id of a broken request line when its start shows one, else None."""
    match = _ID_PREFIX.search(raw[:4096])
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, int | str) else None


def _shape_problem(value: Any) -> str | None:
    """Why a parsed value is not a JSON-RPC message the SDK accepts (None when it is)."""
    if not isinstance(value, dict):
        return "a JSON-RPC message must be a JSON object (batches are not supported)"
    if value.get("jsonrpc") != "2.0":
        return 'a JSON-RPC message needs "jsonrpc": "2.0"'
    if "method" in value:
        if not isinstance(value["method"], str):
            return '"method" must be a string'
        if value.get("params") is not None and not isinstance(value["params"], dict):
            return '"params" must be an object'
    elif "result" not in value and "error" not in value:
        return 'a JSON-RPC message needs "method" (or "result"/"error" for a response)'
    request_id = value.get("id", "")
    id_ok = isinstance(request_id, int | str) and not isinstance(request_id, bool)
    if not id_ok and not ("error" in value and request_id is None):
        return '"id" must be a string or an integer'
    return None


def check_line(raw: bytes) -> tuple[int, str, int | str | None] | None:
    """Return ``(code, message, id)`` for a line the SDK would drop, None for a good one.

    The line is parsed with the same parser as the SDK (pydantic's jiter), so what
    passes here also parses there; the message model is then checked by the SDK.
    """
    try:
        value = pydantic_core.from_json(raw)
    except ValueError as exc:
        return PARSE_ERROR, f"Parse error: {str(exc)[:200]}", _recover_id(raw)
    problem = _shape_problem(value)
    if problem is not None:
        request_id = value.get("id") if isinstance(value, dict) else None
        if isinstance(request_id, bool) or not isinstance(request_id, int | str):
            request_id = None
        return INVALID_REQUEST, f"Invalid Request: {problem}", request_id
    try:
        types.jsonrpc_message_adapter.validate_python(value, by_name=False)
    except pydantic_core.ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "message"
        request_id = value.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, int | str):
            request_id = None
        return INVALID_REQUEST, f"Invalid Request: {where}: {first['msg']}", request_id
    return None


class _Lines:
    """Reads request lines from a private copy of fd 0 and vets each one.

    fd 0 itself is pointed at /dev/null while serving (as the SDK does), so a child
    process can never read the protocol stream.
    """

    def __init__(self) -> None:
        self._fd = os.dup(0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        self.answers: Any = None  # the SDK's write stream, set once the transport is up
        self._pending = bytearray()
        self._eof = False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.dup2(self._fd, 0)
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _read_line(self) -> tuple[bytes, bool] | None:
        """Return the next line (without its newline) and whether it fit; None at EOF.

        Blocking (runs in a worker thread). An oversized line is cut to its first 4 KiB
        (where its id is) and the rest is read and dropped up to the next newline.
        """
        searched = 0
        overflow = False
        while (newline := self._pending.find(b"\n", searched)) < 0:
            searched = len(self._pending)
            chunk = b"" if self._eof else os.read(self._fd, _READ_CHUNK)
            if not chunk:
                self._eof = True
                if not self._pending:
                    return None
                newline = len(self._pending)
                break
            if not overflow:
                self._pending += chunk
                if len(self._pending) > MAX_LINE_BYTES:
                    overflow = True
                    cut = self._pending.find(b"\n", searched)
                    if cut >= 0:  # the newline arrived in this very chunk
                        newline = cut
                        break
                    del self._pending[4096:]
                    searched = len(self._pending)
            else:
                cut = chunk.find(b"\n")
                if cut >= 0:
                    self._pending += chunk[cut:]
        line = bytes(self._pending[:newline])
        del self._pending[: newline + 1]
        return line, not overflow and len(line) <= MAX_LINE_BYTES

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            read = await anyio.to_thread.run_sync(self._read_line, abandon_on_cancel=True)
            if read is None:
                return
            raw, fits = read
            if not raw.strip():
                continue
            if not fits:
                problem: tuple[int, str, int | str | None] | None = (
                    INVALID_REQUEST,
                    f"Invalid Request: the message is over {MAX_LINE_BYTES} bytes",
                    _recover_id(raw),
                )
            else:
                problem = check_line(raw)
            if problem is None:
                yield raw.decode("utf-8", errors="replace")
                continue
            code, message, request_id = problem
            logger.warning("answered an unusable request line (%s): %s", code, message)
            error = types.JSONRPCError(
                jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message)
            )
            await self.answers.send(SessionMessage(error))


async def serve_stdio(server: MCPServer) -> None:
    """Serve ``server`` over stdin/stdout until stdin closes, answering every request."""
    lines = _Lines()
    try:
        async with stdio_server(stdin=cast(Any, lines)) as (read_stream, write_stream):
            lines.answers = write_stream
            # The lowlevel server is what MCPServer.run_stdio_async drives too; only the
            # stdin side differs here.
            lowlevel = server._lowlevel_server
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
    finally:
        lines.close()
