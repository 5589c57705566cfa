"""The response envelope every tool call answers in, and the edge that guarantees it.

``pos_workflow`` and the archived legacy tools answer alike: one JSON object with
``status`` (``success``/``error``) and ``action``; a success adds the handler's
fields and ``next_actions``, an error adds ``error``, ``error_type`` and
``remediation``. This module builds those objects, keeps server paths out of
them, encodes them once as JSON text, and runs a call so that no exception
escapes (:func:`answer_call`). The tools decide *what* to answer; this decides
*how* an answer looks.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio.to_thread
import orjson
import pydantic_core
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pos_engine import PosError, WouldBlock, nonblocking
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = [
    "Answer",
    "WorkflowResponse",
    "answer_call",
    "checkpoint_failure",
    "failure",
    "internal_error",
    "new_error_id",
    "rejection",
    "scrub",
    "sent_names",
    "server_paths",
    "success",
    "to_json",
    "to_result",
]

logger = logging.getLogger(__name__)


class WorkflowResponse(BaseModel):
    """Every pos_workflow response; the other fields depend on the action."""

    model_config = ConfigDict(extra="allow", title="pos_workflow response")

    status: Literal["success", "error"]
    action: str | None


Answer = tuple[dict[str, Any], str]
"""A tool answer: the response object and its JSON text."""


# ------------------------------------------------------------------ shapes


def success(
    action: str, result: Mapping[str, Any], fallback_next: Collection[str] = ()
) -> dict[str, Any]:
    """The answer of a call that ran: ``status``, ``action``, then the handler's fields.

    Args:
        action: The action (or legacy tool) that ran.
        result: The handler's answer; it cannot override ``status`` or ``action``.
        fallback_next: ``next_actions`` when ``result`` carries none.
    """
    response: dict[str, Any] = {"status": "success", "action": action}
    if "status" in result or "action" in result:
        response.update((k, v) for k, v in result.items() if k not in response)
    else:
        response.update(result)  # the common case, without a test per field
    response.setdefault("next_actions", list(fallback_next))
    return response


def failure(action: str | None, error: PosError, project_root: Path) -> dict[str, Any]:
    """The answer of a call the engine refused or failed, with server paths scrubbed.

    An ``InternalError`` also gets an ``error_id`` that the server log carries with
    the traceback, so an operator can find what the client saw.
    """
    response: dict[str, Any] = {
        "status": "error",
        "action": action,
        **scrub(error.to_dict(), server_paths(project_root)),
    }
    if error.error_type == "InternalError":
        response["error_id"] = error_id = new_error_id()
        logger.error(
            "pos_workflow action=%s: %s [error_id=%s]",
            action,
            error.message,
            error_id,
            exc_info=error,
        )
    return response


def rejection(action: str | None, error: PosError) -> dict[str, Any]:
    """The answer of a call whose arguments were refused before anything ran.

    The error quotes only what the caller sent, so it goes out as it is (a
    value the caller typed is echoed back unchanged, never rewritten as a path).
    """
    return {"status": "error", "action": action, **error.to_dict()}


def checkpoint_failure(
    action: str | None, result: Mapping[str, Any], project_root: Path
) -> dict[str, Any]:
    """The answer of a ``complete_phase`` whose checkpoint failed: an error with the findings.

    The findings may quote evidence checked on the server (files, commands), so
    server paths are scrubbed from them.
    """
    response = {"status": "error", "action": action, **result}
    return scrub(response, server_paths(project_root))  # type: ignore[no-any-return]


def new_error_id() -> str:
    """A fresh id for an internal error, shown to the client and written to the log."""
    return "err_" + secrets.token_hex(6)


def internal_error(action: str | None) -> dict[str, Any]:
    """The answer of a call that failed unexpectedly; logs the current exception with its id.

    Call it from an ``except`` block: the traceback goes to the log, never to the client.
    """
    error_id = new_error_id()
    logger.exception("pos_workflow action=%s failed unexpectedly [error_id=%s]", action, error_id)
    return {
        "status": "error",
        "action": action,
        "error": f"internal error while running {action or 'the call'} (error id {error_id})",
        "error_type": "InternalError",
        "remediation": (
            "Retry the call; if it keeps failing, report error id "
            f"{error_id} to the server's operator."
        ),
        "error_id": error_id,
    }


# --------------------------------------------------------------- server paths


@functools.lru_cache(maxsize=64)
def server_paths(project_root: Path) -> list[tuple[str, str]]:
    """Absolute server paths an answer must never reveal, with their labels, longest first.

    Computed once per project (it resolves links): only answers that may carry a
    path, errors and failed checkpoints, need it.
    """
    pairs: dict[str, str] = {}
    for path, label in (
        (project_root, "<project>"),
        (project_root.resolve(), "<project>"),
        (Path(sys.prefix), "<server>"),
        (Path(tempfile.gettempdir()), "<tmp>"),
        (Path.home(), "<home>"),
    ):
        text = str(path)
        if os.path.isabs(text) and len(text) > 1:
            pairs.setdefault(text, label)
    return sorted(pairs.items(), key=lambda kv: len(kv[0]), reverse=True)


def scrub(value: Any, paths: Iterable[tuple[str, str]]) -> Any:
    """Replace each of ``paths`` by its label in every string of ``value`` (defence in depth).

    Args:
        value: A JSON-ready value (dicts and lists are copied, other values kept).
        paths: ``(path, label)`` pairs, longest path first (see :func:`server_paths`).
    """
    if isinstance(value, str):
        for path, label in paths:
            value = value.replace(path, label)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, paths) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, paths) for v in value]
    return value


# ------------------------------------------------------------------ encoding


def to_json(response: dict[str, Any]) -> str:
    """Compact JSON text of an answer (UTF-8 kept as is; NaN and infinities become null).

    orjson encodes a phase's answer (about 5 KB) in a fifth of the time pydantic-core
    takes, and every call pays it. What orjson has no encoding for (a path, a set) is
    converted by pydantic's rules; what it refuses (a lone surrogate, an integer over
    64 bits) goes through ``json.dumps``, which keeps it as it is.
    """
    try:
        return orjson.dumps(
            response, default=pydantic_core.to_jsonable_python, option=orjson.OPT_NON_STR_KEYS
        ).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(response, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_result(response: dict[str, Any], text: str) -> CallToolResult:
    """The MCP result of an answer: its JSON text, its object, and ``is_error`` on errors."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=response,
        is_error=response["status"] == "error",
    )


def sent_names(ctx: Context[Any, Any] | None) -> list[str]:
    """Return the argument names exactly as the client sent them (including unknown ones).

    The SDK passes a tool function only the names of its signature; the request
    still holds the rest, which an argument error must name.
    """
    if ctx is None:
        return []
    try:
        params = ctx.request_context.params
    except ValueError:  # no request (the function was called directly)
        return []
    arguments = (params or {}).get("arguments")
    return [str(name) for name in arguments] if isinstance(arguments, Mapping) else []


# ------------------------------------------------------------------ the edge


async def _answer(work: Callable[[], Answer], action: str | None, *, inline: bool) -> Answer:
    """Run ``work`` on the event loop when ``inline`` and it needs no I/O, else in a thread.

    Never raises.
    """
    try:
        if inline:
            try:
                with nonblocking():
                    return work()
            except WouldBlock:
                pass  # it needs a file read or a busy lock: a worker thread does it
        return await anyio.to_thread.run_sync(work)
    # The tool's promise: no exception escapes; the traceback goes to the log only.
    except Exception:  # pylint: disable=broad-exception-caught
        response = internal_error(action)
        return response, to_json(response)


async def answer_call(  # pylint: disable=too-many-arguments
    work: Callable[[], Answer],
    *,
    tool: str,
    label: str,
    action: str | None,
    monitor: Monitor | None,
    inline: bool = False,
) -> Answer:
    """The tool edge: every pos_workflow and legacy tool call passes here once; never raises.

    Args:
        work: Checks and runs the call (blocking), returning its answer.
        tool: The MCP tool called, for metrics.
        label: The metrics label of the action (from a bounded set, never client text).
        action: The ``action`` an internal error names.
        monitor: Times and records the call, and injects faults when asked (None: neither).
        inline: The call only reads: try it memory-only on the event loop first
            (``pos_engine.nonblocking``); whatever needs a file read, a folder walk or a
            lock held during I/O goes to a worker thread, as every write does.
    """
    if monitor is None:
        return await _answer(work, action, inline=inline)
    return await monitor.measure(tool, label, lambda: _answer(work, action, inline=inline))
