"""The 14 actions of ``pos_workflow``: parameters, dispatch table and the call check.

Everything here is plain Python over the engine; nothing imports MCP. The MCP
layer (``_tool.py``) builds the tool's input schema and description from
:data:`PARAMETERS` and :data:`ACTIONS`, so the table is the single source of truth
for what each action takes, needs and returns. :func:`parse_call` checks a call's
arguments against it with the checks the legacy tools share (``_arguments``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pos_engine import (
    DEFAULT_PAGE_SIZE,
    MAX_CURSOR_CHARS,
    MAX_NOTE_CHARS,
    MAX_OPTIONS_BYTES,
    MAX_PAGE_SIZE,
    SESSION_STATUSES,
    StateManager,
    WorkflowEngine,
)
from pos_engine.guards import (
    MAX_EVIDENCE_BYTES,
    MAX_TARGET_PATH_CHARS,
    SESSION_ID_PATTERN,
    WORKFLOW_TYPE_PATTERN,
)

from ._arguments import (
    ActionInputError,
    Parameter,
    check_arguments,
    join_names,
    unknown_names,
    unknown_sentence,
)
from ._legacy_table import ARCHIVED_TOOL_ACTIONS

__all__ = [
    "ACTIONS",
    "GROUPS",
    "PARAMETERS",
    "PARAMETER_NAMES",
    "TOOL_NAME",
    "VALID_ACTIONS",
    "ActionCall",
    "ActionInputError",
    "ActionSpec",
    "Backends",
    "Group",
    "Parameter",
    "parse_call",
]

TOOL_NAME = "pos_workflow"
"""The one consolidated tool's name: every action below is a call of it."""

Group = Literal["discovery", "execution", "management", "recovery"]
"""How the actions are grouped in the tool description and the docs."""

GROUPS: tuple[Group, ...] = ("discovery", "execution", "management", "recovery")

EXAMPLE_SESSION_ID = "test_generation_v3_calculator_py_20251023_143022_3f9a1c"
"""A well-formed session id used in example calls."""


@dataclass(frozen=True)
class Backends:
    """What the handlers run against: the engine and the state manager over one store."""

    engine: WorkflowEngine
    state: StateManager


Handler = Callable[[Backends, Mapping[str, Any]], dict[str, Any]]
"""Runs one action with checked parameters and returns the engine's answer."""


@dataclass(frozen=True)
class ActionSpec:  # pylint: disable=too-many-instance-attributes  # one field per table column
    """One row of the dispatch table.

    Attributes:
        name: The action name passed as ``action``.
        group: Where the action belongs (discovery, execution, management, recovery).
        summary: One line saying what the action does and returns.
        required: Parameters the action cannot run without (besides ``action``).
        optional: Parameters the action accepts but does not need.
        example: Arguments (besides ``action``) of a correct call.
        handler: Calls the engine; receives only parameters listed above.
        next_actions: Offered when the engine's answer carries none (no session involved).
        read_only: The action changes nothing, so a server may answer it on its event
            loop when everything it needs is in memory.
    """

    name: str
    group: Group
    summary: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    example: Mapping[str, Any]
    handler: Handler = field(repr=False)
    next_actions: tuple[str, ...] = ()
    read_only: bool = False

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter the action takes, required first."""
        return self.required + self.optional

    def usage(self) -> str:
        """Return ``start(workflow_type, target_file[, options])``-style usage."""
        optional = "".join(f"[, {name}]" for name in self.optional)
        if not self.required:
            optional = optional.replace("[, ", "[", 1)
        return f"{self.name}({', '.join(self.required)}{optional})"

    def example_call(self, overrides: Mapping[str, Any] | None = None) -> str:
        """Return a correct call as ``pos_workflow(action="start", ...)``.

        Args:
            overrides: Values to use instead of the example's (for example the
                caller's own session_id), when they have the right type.
        """
        values = dict(self.example)
        for name, value in (overrides or {}).items():
            if name in self.parameters and PARAMETERS[name].accepts(value):
                values[name] = value
        args = [f'action="{self.name}"'] + [f"{k}={_render(v)}" for k, v in values.items()]
        return f"pos_workflow({', '.join(args)})"

    def needs(self) -> str:
        """Return the sentence saying what the action takes."""
        parts = []
        if self.required:
            parts.append(f"requires {join_names(self.required)}")
        else:
            parts.append("requires no parameter besides action")
        if self.optional:
            parts.append(f"accepts {join_names(self.optional)} (optional)")
        return f"{self.name} " + " and ".join(parts)


def _render(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, dict):
        inner = ", ".join(f'"{k}": {_render(v)}' for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return repr(value)


# ---------------------------------------------------------------- parameters

_KIB = 1024
_NOTE = {"maxLength": MAX_NOTE_CHARS}
_PHASE = {"minimum": 0}

PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "action", "string", "What to do; see the tool description for each action's parameters."
        ),
        Parameter(
            "session_id",
            "string",
            "Session id returned by start (every session action).",
            constraints={"pattern": f"^{SESSION_ID_PATTERN}$"},
        ),
        Parameter(
            "workflow_type",
            "string",
            "Workflow to start, as listed by list_workflows (start).",
            constraints={"pattern": f"^{WORKFLOW_TYPE_PATTERN}$"},
        ),
        Parameter(
            "target_file",
            "string",
            "File the workflow works on, relative to the project root and inside it (start).",
            constraints={"minLength": 1, "maxLength": MAX_TARGET_PATH_CHARS},
        ),
        Parameter(
            "options",
            "object",
            f"Free-form options stored with the session, at most {MAX_OPTIONS_BYTES // _KIB} KiB "
            "(start).",
        ),
        Parameter(
            "phase",
            "integer",
            "Phase number (get_task, complete_phase, retry_phase).",
            constraints=_PHASE,
        ),
        Parameter(
            "task_number",
            "integer",
            "Task number within the phase, from 1 (get_task).",
            constraints={"minimum": 1},
        ),
        Parameter(
            "evidence",
            "object",
            "Checkpoint evidence shaped as checkpoint.evidence_schema, at most "
            f"{MAX_EVIDENCE_BYTES // (_KIB * _KIB)} MiB of JSON (complete_phase).",
        ),
        Parameter("category", "string", "Only workflows of this category (list_workflows)."),
        Parameter(
            "status", "string", "Only sessions in this status (list_sessions).", SESSION_STATUSES
        ),
        Parameter(
            "limit",
            "integer",
            f"Sessions per page, 1-{MAX_PAGE_SIZE}; default {DEFAULT_PAGE_SIZE} (list_sessions).",
            constraints={"minimum": 1, "maximum": MAX_PAGE_SIZE},
        ),
        Parameter(
            "cursor",
            "string",
            "The previous page's next_cursor, to continue (list_sessions).",
            constraints={"maxLength": MAX_CURSOR_CHARS},
        ),
        Parameter(
            "reason",
            "string",
            "Why the session is deleted, for the log (delete_session).",
            constraints=_NOTE,
        ),
        Parameter(
            "checkpoint_note", "string", "Where you stopped and why (pause).", constraints=_NOTE
        ),
        Parameter(
            "reset_evidence", "boolean", "Discard the phase's stored evidence (retry_phase)."
        ),
        Parameter(
            "replan",
            "boolean",
            "Re-read the spec's tasks.md into the session's plan (retry_phase, dynamic workflows).",
        ),
        Parameter(
            "to_phase",
            "integer",
            "Phase to return to; later phases are cleared (rollback).",
            constraints=_PHASE,
        ),
    )
}
"""Every parameter of ``pos_workflow``, in the order of the tool's signature."""

PARAMETER_NAMES: tuple[str, ...] = tuple(PARAMETERS)


# ------------------------------------------------------------------ handlers


def _list_workflows(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.list_workflows(p.get("category"))


def _start(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.start_workflow(p["workflow_type"], p["target_file"], p.get("options"))


def _get_phase(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.get_current_phase(p["session_id"])


def _get_task(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.get_task(p["session_id"], p["phase"], p["task_number"])


def _complete_phase(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.complete_phase(p["session_id"], p["phase"], p["evidence"])


def _get_state(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.get_workflow_state(p["session_id"])


def _list_sessions(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.state.list_sessions(p.get("status"), p.get("limit"), p.get("cursor"))


def _get_session(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.state.get_session(p["session_id"])


def _delete_session(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.state.delete_session(p["session_id"], p.get("reason"))


def _pause(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.state.pause_session(p["session_id"], p.get("checkpoint_note"))


def _resume(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.state.resume_session(p["session_id"])


def _retry_phase(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.retry_phase(
        p["session_id"], p["phase"], p.get("reset_evidence", False), p.get("replan", False)
    )


def _rollback(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.engine.rollback(p["session_id"], p["to_phase"])


def _get_errors(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    return b.state.get_errors(p["session_id"])


_SID = {"session_id": EXAMPLE_SESSION_ID}

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "list_workflows",
            group="discovery",
            summary="workflows with phases, category and duration",
            required=(),
            optional=("category",),
            example={"category": "code_generation"},
            handler=_list_workflows,
            read_only=True,
            next_actions=("start", "list_sessions"),
        ),
        ActionSpec(
            "start",
            group="execution",
            summary="new session; returns session_id and the first phase",
            required=("workflow_type", "target_file"),
            optional=("options",),
            example={"workflow_type": "test_generation_v3", "target_file": "src/calculator.py"},
            handler=_start,
        ),
        ActionSpec(
            "get_phase",
            group="execution",
            summary="current phase content with earlier artifacts",
            required=("session_id",),
            optional=(),
            example=_SID,
            handler=_get_phase,
            read_only=True,
        ),
        ActionSpec(
            "get_task",
            group="execution",
            summary="one task with its execution steps",
            required=("session_id", "phase", "task_number"),
            optional=(),
            example={**_SID, "phase": 1, "task_number": 1},
            handler=_get_task,
            read_only=True,
        ),
        ActionSpec(
            "complete_phase",
            group="execution",
            summary="submit evidence; passes the checkpoint or lists what is missing",
            required=("session_id", "phase", "evidence"),
            optional=(),
            example={**_SID, "phase": 1, "evidence": {"code_structure": {}, "test_candidates": []}},
            handler=_complete_phase,
        ),
        ActionSpec(
            "get_state",
            group="execution",
            summary="progress, artifacts, status, resume_capable",
            required=("session_id",),
            optional=(),
            example=_SID,
            handler=_get_state,
            read_only=True,
        ),
        ActionSpec(
            "list_sessions",
            group="management",
            summary="one page of sessions, newest first, with total and next_cursor",
            required=(),
            optional=("status", "limit", "cursor"),
            example={"status": "active", "limit": 20},
            handler=_list_sessions,
            read_only=True,
            next_actions=("get_session", "get_state", "start"),
        ),
        ActionSpec(
            "get_session",
            group="management",
            summary="one session with phase history and options",
            required=("session_id",),
            optional=(),
            example=_SID,
            handler=_get_session,
            read_only=True,
        ),
        ActionSpec(
            "delete_session",
            group="management",
            summary="delete a session (a missing one is not an error)",
            required=("session_id",),
            optional=("reason",),
            example={**_SID, "reason": "done"},
            handler=_delete_session,
        ),
        ActionSpec(
            "pause",
            group="management",
            summary="park an active session",
            required=("session_id",),
            optional=("checkpoint_note",),
            example={**_SID, "checkpoint_note": "waiting for review"},
            handler=_pause,
        ),
        ActionSpec(
            "resume",
            group="management",
            summary="continue a paused session",
            required=("session_id",),
            optional=(),
            example=_SID,
            handler=_resume,
        ),
        ActionSpec(
            "retry_phase",
            group="recovery",
            summary="new attempt at the current phase after a failed checkpoint",
            required=("session_id", "phase"),
            optional=("reset_evidence", "replan"),
            example={**_SID, "phase": 1},
            handler=_retry_phase,
        ),
        ActionSpec(
            "rollback",
            group="recovery",
            summary="go back to an earlier phase, clearing later artifacts",
            required=("session_id", "to_phase"),
            optional=(),
            example={**_SID, "to_phase": 1},
            handler=_rollback,
        ),
        ActionSpec(
            "get_errors",
            group="recovery",
            summary="errors recorded against the session",
            required=("session_id",),
            optional=(),
            example=_SID,
            handler=_get_errors,
            read_only=True,
        ),
    )
}
"""The dispatch table: action name -> its group, parameters, example and handler."""

VALID_ACTIONS: tuple[str, ...] = tuple(ACTIONS)
"""The 14 action names, in documentation order."""


# ------------------------------------------------------------ argument checks


@dataclass(frozen=True)
class ActionCall:
    """A checked call: the action's spec and the parameters it was given (no ``None`` values)."""

    spec: ActionSpec
    params: dict[str, Any]


_ARGUMENTS = {name: p for name, p in PARAMETERS.items() if name != "action"}
"""The parameters an action may be given (``action`` itself chooses the action)."""

_NO_SUCH_PARAMETER = "pos_workflow has no such parameter"


def _action_error(action: object, unknown: list[str]) -> ActionInputError:
    """The error for a missing, mistyped or unknown ``action``."""
    listing = ", ".join(VALID_ACTIONS)
    if action is None:
        findings = [f"action is required; it must be one of: {listing}"]
    elif not isinstance(action, str):
        findings = [f"action must be a string, got {type(action).__name__} {action!r:.60}"]
    else:
        close = [ARCHIVED_TOOL_ACTIONS[action]] if action in ARCHIVED_TOOL_ACTIONS else []
        close = close or difflib.get_close_matches(action, VALID_ACTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        findings = [f"unknown action {action!r:.60}{hint}; valid actions: {listing}"]
    if unknown:
        findings.append(unknown_sentence(unknown, _NO_SUCH_PARAMETER))
    return ActionInputError(
        "; ".join(findings),
        remediation=(
            "Pass action as one of valid_actions, e.g. "
            f"{ACTIONS['list_workflows'].example_call()} or {ACTIONS['start'].example_call()}."
        ),
        details={"unknown_arguments": unknown} if unknown else None,
        extra={"valid_actions": list(VALID_ACTIONS)},
    )


def parse_call(arguments: Mapping[str, Any], sent: Collection[str] = ()) -> ActionCall:
    """Check one call's arguments against the dispatch table.

    A ``None`` value counts as "not given" (clients that send every parameter send
    nulls). Every finding is collected before anything is raised.

    Args:
        arguments: The call's arguments by name, ``action`` included.
        sent: The names the client actually sent, to catch names that are not
            parameters at all (the MCP layer drops those from ``arguments``).

    Returns:
        The action's spec and its non-null parameters.

    Raises:
        ActionInputError: The action is missing or unknown, or a parameter is
            unknown, not used by the action, missing or of the wrong type.
    """
    unknown = unknown_names([*sent, *arguments], PARAMETERS)
    action = arguments.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise _action_error(action, unknown)
    spec = ACTIONS[action]
    given = check_arguments(
        action,
        arguments,
        known=_ARGUMENTS,
        required=spec.required,
        optional=spec.optional,
        unknown=unknown,
        unknown_reason=_NO_SUCH_PARAMETER,
        remediation=lambda given: f"{spec.needs()}. Call it like: {spec.example_call(given)}",
    )
    return ActionCall(spec, given)
