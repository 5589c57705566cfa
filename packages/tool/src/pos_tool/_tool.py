"""The MCP face of the engine: one tool, ``pos_workflow``, with an ``action`` parameter.

The tool's signature, input schema and description are generated from the
dispatch table in ``_actions``. Every call returns a JSON object with ``status``
(``success``/``error``) and ``action``, as structured content and as JSON text;
no exception escapes and no error carries a server path or a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio.to_thread
import pydantic_core
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pos_engine import PosError, StateManager, WorkflowEngine, WouldBlock, nonblocking
from pydantic import BaseModel, ConfigDict, WithJsonSchema

from ._actions import ACTIONS, GROUPS, PARAMETERS, ActionInputError, Backends, parse_call

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = [
    "TOOL_NAME",
    "WorkflowResponse",
    "answers_inline",
    "dispatch",
    "register_workflow_tools",
    "tool_description",
]

logger = logging.getLogger(__name__)

TOOL_NAME = "pos_workflow"

_ANNOTATIONS = ToolAnnotations(
    title="Phase-gated workflows",
    read_only_hint=False,
    # delete_session removes a session; rollback clears later phases' artifacts.
    destructive_hint=True,
    # start creates a new session on every call, so repeating a call is not always harmless.
    idempotent_hint=False,
    # Only the project's own workflow definitions and session store are touched.
    open_world_hint=False,
)


class WorkflowResponse(BaseModel):
    """Every pos_workflow response; the other fields depend on the action."""

    model_config = ConfigDict(extra="allow", title="pos_workflow response")

    status: Literal["success", "error"]
    action: str | None


_HEADER = (
    "Run phase-gated workflows (e.g. test generation) in durable sessions. "
    "Flow: list_workflows -> start -> per phase: get_task for each task, then complete_phase "
    "with evidence shaped as phase_content.checkpoint (its evidence_example passes) "
    "-> next phase.\n"
    "Every response is JSON with status (success|error) and action; successes carry next_actions, "
    "errors carry error, error_type and remediation. <sid> = the session_id returned by start.\n"
)


def _example_args(name: str) -> str:
    spec = ACTIONS[name]
    parts = [f'"action":"{name}"']
    for key, value in spec.example.items():
        shown = "<sid>" if key == "session_id" else value
        parts.append(f'"{key}":{json.dumps(shown, separators=(",", ":"))}')
    return "{" + ",".join(parts) + "}"


def tool_description() -> str:
    """Return the tool description: the flow, then all 14 actions by group with an example each."""
    lines = [_HEADER]
    for group in GROUPS:
        lines.append(f"{group.capitalize()}:")
        for spec in ACTIONS.values():
            if spec.group == group:
                lines.append(f"- {spec.usage()}: {spec.summary}. {_example_args(spec.name)}")
    return "\n".join(lines)


# ----------------------------------------------------------------- dispatch


@functools.lru_cache(maxsize=64)
def _server_paths(project_root: Path) -> list[tuple[str, str]]:
    """Absolute server paths an error message must never reveal, longest first.

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


def _scrub(value: Any, paths: Iterable[tuple[str, str]]) -> Any:
    """Replace known server paths in every string of ``value`` (defence in depth)."""
    if isinstance(value, str):
        for path, label in paths:
            value = value.replace(path, label)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, paths) for v in value]
    return value


def _error_id() -> str:
    return "err_" + secrets.token_hex(6)


def _internal_error(action: str | None) -> dict[str, Any]:
    error_id = _error_id()
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


def _success(
    action: str, result: Mapping[str, Any], fallback_next: Collection[str]
) -> dict[str, Any]:
    response: dict[str, Any] = {"status": "success", "action": action}
    response.update((k, v) for k, v in result.items() if k not in response)
    response.setdefault("next_actions", list(fallback_next))
    return response


def _failure(action: str | None, error: PosError, project_root: Path) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": "error",
        "action": action,
        **_scrub(error.to_dict(), _server_paths(project_root)),
    }
    if error.error_type == "InternalError":
        response["error_id"] = error_id = _error_id()
        logger.error(
            "pos_workflow action=%s: %s [error_id=%s]",
            action,
            error.message,
            error_id,
            exc_info=error,
        )
    return response


def _run(backends: Backends, arguments: Mapping[str, Any], sent: Collection[str]) -> dict[str, Any]:
    """Check, dispatch and shape one call (blocking: runs in a worker thread)."""
    raw_action = arguments.get("action")
    action = raw_action if isinstance(raw_action, str) else None
    root = backends.engine.project_root
    try:
        call = parse_call(arguments, sent)
        result = call.spec.handler(backends, call.params)
    except ActionInputError as exc:
        return {"status": "error", "action": action, **exc.to_dict()}
    except PosError as exc:
        return _failure(action, exc, root)
    if result.get("checkpoint_passed") is False:
        response = {"status": "error", "action": action, **result}
        return _scrub(response, _server_paths(root))  # type: ignore[no-any-return]
    return _success(call.spec.name, result, call.spec.next_actions)


def _to_json(response: dict[str, Any]) -> str:
    """Compact JSON text of an answer (UTF-8 kept as is; NaN and infinities become null).

    pydantic-core's serialiser is several times faster than ``json.dumps``; anything it
    refuses (a lone surrogate) goes through ``json.dumps``, which keeps it as it is.
    """
    try:
        return pydantic_core.to_json(response, inf_nan_mode="null").decode()
    except (pydantic_core.PydanticSerializationError, UnicodeDecodeError, ValueError):
        return json.dumps(response, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


Answer = tuple[dict[str, Any], str]
"""A tool answer: the response object and its JSON text."""


def _run_to_json(backends: Backends, arguments: Mapping[str, Any], sent: Collection[str]) -> Answer:
    response = _run(backends, arguments, sent)
    return response, _to_json(response)


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
        response = _internal_error(action)
        return response, _to_json(response)


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


def answers_inline(backends: Backends, action: str | None) -> bool:
    """Whether ``action`` is tried on the event loop: a read, over a store that allows it."""
    spec = ACTIONS.get(action) if action is not None else None
    return spec is not None and spec.read_only and backends.engine.store.nonblocking_reads


async def _respond(
    backends: Backends,
    arguments: Mapping[str, Any],
    sent: Collection[str],
    monitor: Monitor | None = None,
) -> Answer:
    """Return the response and its JSON text; never raises."""
    raw = arguments.get("action")
    action = raw if isinstance(raw, str) else None
    return await answer_call(
        lambda: _run_to_json(backends, arguments, sent),
        tool=TOOL_NAME,
        label=action if action in ACTIONS else "unknown",
        action=action,
        monitor=monitor,
        inline=answers_inline(backends, action),
    )


async def dispatch(
    backends: Backends, arguments: Mapping[str, Any], sent: Collection[str] = ()
) -> dict[str, Any]:
    """Run one pos_workflow call and return its response; never raises.

    Args:
        backends: The engine and state manager to run against.
        arguments: The call's arguments by name (``None`` means not given).
        sent: Every argument name the client sent, to report unknown ones.

    Returns:
        A JSON-ready dict with ``status`` and ``action``; errors add ``error``,
        ``error_type`` and ``remediation``.
    """
    response, _ = await _respond(backends, arguments, sent)
    return response


def _as_result(response: dict[str, Any], text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=response,
        is_error=response["status"] == "error",
    )


# ------------------------------------------------------------- registration


def _sent_names(ctx: Context[Any, Any] | None) -> list[str]:
    """Return the argument names exactly as the client sent them (including unknown ones)."""
    if ctx is None:
        return []
    try:
        params = ctx.request_context.params
    except ValueError:  # no request (the function was called directly)
        return []
    arguments = (params or {}).get("arguments")
    return [str(name) for name in arguments] if isinstance(arguments, Mapping) else []


def _signature() -> inspect.Signature:
    """The tool function's signature, generated from the parameter table.

    Each parameter accepts any value at the SDK's validation step (our own
    checks give better errors) while publishing its exact JSON Schema.
    """
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Any, WithJsonSchema(spec.json_schema() | _enum_for(name))],
            default=inspect.Parameter.empty if name == "action" else None,
        )
        for name, spec in PARAMETERS.items()
    ]
    params.append(
        inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context, default=None)
    )
    return inspect.Signature(params, return_annotation=Annotated[CallToolResult, WorkflowResponse])


def _enum_for(name: str) -> dict[str, Any]:
    return {"enum": list(ACTIONS)} if name == "action" else {}


async def _require_action_key(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """Give a pos_workflow call without ``action`` an explicit null one.

    ``action`` is required in the published schema; without this, the SDK would
    reject such a call with a pydantic dump before our handler could answer
    with its structured error listing the valid actions.
    """
    params = ctx.params
    if ctx.method == "tools/call" and params is not None and params.get("name") == TOOL_NAME:
        arguments = params.get("arguments")
        if arguments is None or (isinstance(arguments, Mapping) and "action" not in arguments):
            fixed = {**params, "arguments": {**(arguments or {}), "action": None}}
            ctx = dataclasses.replace(ctx, params=fixed)
    return await call_next(ctx)


def register_workflow_tools(
    mcp: MCPServer,
    workflow_engine: WorkflowEngine,
    state_manager: StateManager,
    *,
    monitor: Monitor | None = None,
) -> int:
    """Register the ``pos_workflow`` tool on ``mcp``.

    Args:
        mcp: The server to register on.
        workflow_engine: Runs discovery, execution and recovery actions.
        state_manager: Runs the management actions (same store as the engine).
        monitor: Records every call's latency and outcome (None: no metrics).

    Returns:
        The number of tools registered: 1.
    """
    backends = Backends(workflow_engine, state_manager)

    async def pos_workflow(
        ctx: Context[Any, Any] | None = None, **arguments: Any
    ) -> CallToolResult:
        return _as_result(*await _respond(backends, arguments, _sent_names(ctx), monitor))

    signature = _signature()
    pos_workflow.__signature__ = signature  # type: ignore[attr-defined]
    pos_workflow.__annotations__ = {
        **{p.name: p.annotation for p in signature.parameters.values()},
        "return": signature.return_annotation,
    }
    mcp.add_tool(
        pos_workflow,
        name=TOOL_NAME,
        description=tool_description(),
        annotations=_ANNOTATIONS,
        structured_output=True,
    )
    mcp.middleware.append(_require_action_key)
    return 1
