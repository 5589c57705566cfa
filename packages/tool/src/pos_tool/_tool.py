"""The MCP face of the engine: one tool, ``pos_workflow``, with an ``action`` parameter.

The tool's signature, input schema and description are generated from the
dispatch table in ``_actions``. Every call returns a JSON object with ``status``
(``success``/``error``) and ``action``, as structured content and as JSON text
(the envelope, built by ``_envelope``); no exception escapes and no error carries a
server path or a traceback.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pos_engine import PosError, StateManager, WorkflowEngine
from pydantic import WithJsonSchema

from ._actions import (
    ACTIONS,
    GROUPS,
    PARAMETERS,
    TOOL_NAME,
    ActionInputError,
    Backends,
    parse_call,
)
from ._envelope import (
    Answer,
    WorkflowResponse,
    answer_call,
    checkpoint_failure,
    failure,
    rejection,
    sent_names,
    success,
    to_json,
    to_result,
)

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = [
    "TOOL_NAME",
    "WorkflowResponse",
    "answers_inline",
    "dispatch",
    "register_workflow_tools",
    "run_action",
    "tool_description",
]


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


def run_action(
    backends: Backends, arguments: Mapping[str, Any], sent: Collection[str] = ()
) -> dict[str, Any]:
    """Check, dispatch and shape one pos_workflow call (blocking: runs in a worker thread).

    The legacy tools that are one action run through here too, so both surfaces
    check, answer and fail alike.

    Args:
        backends: The engine and state manager to run against.
        arguments: The call's arguments by name, ``action`` included.
        sent: Every argument name the client sent, to report unknown ones.

    Returns:
        The answer (see ``_envelope``). Only what the engine did not expect
        propagates; ``answer_call`` turns that into an ``InternalError`` answer.
    """
    raw_action = arguments.get("action")
    action = raw_action if isinstance(raw_action, str) else None
    root = backends.engine.project_root
    try:
        call = parse_call(arguments, sent)
        result = call.spec.handler(backends, call.params)
    except ActionInputError as exc:
        return rejection(action, exc)
    except PosError as exc:
        return failure(action, exc, root)
    if result.get("checkpoint_passed") is False:
        return checkpoint_failure(action, result, root)
    return success(call.spec.name, result, call.spec.next_actions)


def _run_to_json(backends: Backends, arguments: Mapping[str, Any], sent: Collection[str]) -> Answer:
    response = run_action(backends, arguments, sent)
    return response, to_json(response)


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


# ------------------------------------------------------------- registration


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
        return to_result(*await _respond(backends, arguments, sent_names(ctx), monitor))

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
