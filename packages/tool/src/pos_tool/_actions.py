"""The 14 actions of ``pos_workflow``: parameters, dispatch table and argument checks.

Everything here is plain Python over the engine; nothing imports MCP. The MCP
layer (``_tool.py``) builds the tool's input schema and description from
:data:`PARAMETERS` and :data:`ACTIONS`, so the table is the single source of truth
for what each action takes, needs and returns.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pos_engine import SESSION_STATUSES, StateManager, ValidationError, WorkflowEngine

__all__ = [
    "ACTIONS",
    "GROUPS",
    "PARAMETERS",
    "PARAMETER_NAMES",
    "VALID_ACTIONS",
    "ActionCall",
    "ActionInputError",
    "ActionSpec",
    "Backends",
    "Group",
    "Parameter",
    "parse_call",
]

Group = Literal["discovery", "execution", "management", "recovery"]
"""How the actions are grouped in the tool description and the docs."""

GROUPS: tuple[Group, ...] = ("discovery", "execution", "management", "recovery")

Kind = Literal["string", "integer", "object", "boolean"]

EXAMPLE_SESSION_ID = "test_generation_v3_calculator_py_20251023_143022_3f9a1c"
"""A well-formed session id used in example calls."""

ARCHIVED_TOOL_ACTIONS: dict[str, str] = {
    "start_workflow": "start",
    "get_current_phase": "get_phase",
    "get_workflow_state": "get_state",
}
"""Old tool names an agent may still send as an action, and the action that replaced each."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of ``pos_workflow`` as published in its input schema.

    Attributes:
        name: The argument name.
        kind: The JSON type the argument must have.
        description: One line shown to agents in the input schema.
        enum: Allowed values, when the set is closed.
    """

    name: str
    kind: Kind
    description: str
    enum: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of this parameter: its plain type.

        An optional parameter is left out to mean "not given"; a null is accepted as
        the same thing (some clients send every parameter) but is not published, because
        clients read a type list such as ``["integer", "null"]`` as "not a number" and
        send ``"1"`` (the MCP Inspector does).
        """
        schema: dict[str, Any] = {"type": self.kind, "description": self.description}
        if self.enum:
            schema["enum"] = list(self.enum)
        return schema

    def normalise(self, value: object) -> object:
        """Return ``value`` as this parameter's type where JSON Schema says it is one.

        JSON Schema counts ``1.0`` as an integer; Python's JSON parser gives a float.
        """
        if self.kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def accepts(self, value: object) -> bool:
        """Return whether ``value`` has this parameter's JSON type (booleans are not integers)."""
        if self.kind == "string":
            return isinstance(value, str)
        if self.kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.kind == "boolean":
            return isinstance(value, bool)
        return isinstance(value, dict)


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
    """

    name: str
    group: Group
    summary: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    example: Mapping[str, Any]
    handler: Handler = field(repr=False)
    next_actions: tuple[str, ...] = ()

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
            parts.append(f"requires {_join(self.required)}")
        else:
            parts.append("requires no parameter besides action")
        if self.optional:
            parts.append(f"accepts {_join(self.optional)} (optional)")
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


def _join(names: Collection[str]) -> str:
    """Return ``a``, ``a and b`` or ``a, b and c``."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- parameters

PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "action", "string", "What to do; see the tool description for each action's parameters."
        ),
        Parameter("session_id", "string", "Session id returned by start (every session action)."),
        Parameter(
            "workflow_type", "string", "Workflow to start, as listed by list_workflows (start)."
        ),
        Parameter(
            "target_file",
            "string",
            "File the workflow works on, relative to the project root (start).",
        ),
        Parameter("options", "object", "Free-form options stored with the session (start)."),
        Parameter("phase", "integer", "Phase number (get_task, complete_phase, retry_phase)."),
        Parameter("task_number", "integer", "Task number within the phase, from 1 (get_task)."),
        Parameter(
            "evidence",
            "object",
            "Checkpoint evidence shaped as checkpoint.evidence_schema (complete_phase).",
        ),
        Parameter("category", "string", "Only workflows of this category (list_workflows)."),
        Parameter(
            "status", "string", "Only sessions in this status (list_sessions).", SESSION_STATUSES
        ),
        Parameter("reason", "string", "Why the session is deleted, for the log (delete_session)."),
        Parameter("checkpoint_note", "string", "Where you stopped and why (pause)."),
        Parameter(
            "reset_evidence", "boolean", "Discard the phase's stored evidence (retry_phase)."
        ),
        Parameter(
            "replan",
            "boolean",
            "Re-read the spec's tasks.md into the session's plan (retry_phase, dynamic workflows).",
        ),
        Parameter(
            "to_phase", "integer", "Phase to return to; later phases are cleared (rollback)."
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
    return b.state.list_sessions(p.get("status"))


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
        ),
        ActionSpec(
            "get_task",
            group="execution",
            summary="one task with its execution steps",
            required=("session_id", "phase", "task_number"),
            optional=(),
            example={**_SID, "phase": 1, "task_number": 1},
            handler=_get_task,
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
        ),
        ActionSpec(
            "list_sessions",
            group="management",
            summary="sessions, newest first",
            required=(),
            optional=("status",),
            example={"status": "active"},
            handler=_list_sessions,
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
        ),
    )
}
"""The dispatch table: action name -> its group, parameters, example and handler."""

VALID_ACTIONS: tuple[str, ...] = tuple(ACTIONS)
"""The 14 action names, in documentation order."""


# ------------------------------------------------------------ argument checks


class ActionInputError(ValidationError):
    """A call whose arguments do not fit the action; carries every finding at once.

    Args:
        message: Every finding, joined by ``"; "``.
        remediation: How to call correctly, with an example call.
        details: The findings, machine-readable.
        extra: Fields added to the top level of the error response (``valid_actions``).
    """

    def __init__(
        self,
        message: str,
        *,
        remediation: str,
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, remediation=remediation, details=details)
        self.extra: dict[str, Any] = extra or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the error fields, with ``extra`` at the top level."""
        return {**super().to_dict(), **self.extra}


@dataclass(frozen=True)
class ActionCall:
    """A checked call: the action's spec and the parameters it was given (no ``None`` values)."""

    spec: ActionSpec
    params: dict[str, Any]


def _unknown_names(sent: Collection[str]) -> list[str]:
    return sorted(name for name in sent if name not in PARAMETERS)


def _unknown_sentence(unknown: list[str]) -> str:
    noun = "argument" if len(unknown) == 1 else "arguments"
    return f"unknown {noun} {_join([repr(n) for n in unknown])}: pos_workflow has no such parameter"


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
        findings.append(_unknown_sentence(unknown))
    return ActionInputError(
        "; ".join(findings),
        remediation=(
            "Pass action as one of valid_actions, e.g. "
            f"{ACTIONS['list_workflows'].example_call()} or {ACTIONS['start'].example_call()}."
        ),
        details={"unknown_arguments": unknown} if unknown else None,
        extra={"valid_actions": list(VALID_ACTIONS)},
    )


def type_problem(parameter: Parameter, value: object) -> dict[str, str]:
    """Describe a value that does not have ``parameter``'s JSON type."""
    name, kind = parameter.name, parameter.kind
    article = "an" if kind[0] in "aeiou" else "a"
    expected = "a JSON object" if kind == "object" else f"{article} {kind}"
    return {
        "parameter": name,
        "expected": kind,
        "got": type(value).__name__,
        "message": f"{name} must be {expected}, got {type(value).__name__} {value!r:.60}",
    }


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
    unknown = _unknown_names([*sent, *arguments])
    action = arguments.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise _action_error(action, unknown)
    spec = ACTIONS[action]
    given = {
        k: PARAMETERS[k].normalise(v)
        for k, v in arguments.items()
        if k != "action" and k in PARAMETERS and v is not None
    }
    unexpected = [name for name in PARAMETER_NAMES if name in given and name not in spec.parameters]
    missing = [name for name in spec.required if name not in given]
    invalid = [
        type_problem(PARAMETERS[n], given[n])
        for n in spec.parameters
        if n in given and not PARAMETERS[n].accepts(given[n])
    ]
    if not (unknown or unexpected or missing or invalid):
        return ActionCall(spec, given)
    findings = []
    if missing:
        if len(missing) == len(spec.required):
            findings.append(f"{action} requires {_join(spec.required)}")
        else:
            verb = "is" if len(missing) == 1 else "are"
            findings.append(
                f"{action} requires {_join(spec.required)}; {_join(missing)} {verb} missing"
            )
    findings.extend(f"{name} is not a parameter of {action}" for name in unexpected)
    if unknown:
        findings.append(_unknown_sentence(unknown))
    findings.extend(problem["message"] for problem in invalid)
    raise ActionInputError(
        "; ".join(findings),
        remediation=f"{spec.needs()}. Call it like: {spec.example_call(given)}",
        details=call_details(
            spec.required,
            spec.optional,
            missing_parameters=missing,
            unexpected_parameters=unexpected,
            unknown_arguments=unknown,
            invalid_parameters=invalid,
        ),
    )


def call_details(
    required: Collection[str], optional: Collection[str], **findings: list[Any]
) -> dict[str, Any]:
    """The ``details`` of an argument error: the call's parameters and each non-empty finding."""
    details: dict[str, Any] = {"required": list(required), "optional": list(optional)}
    details.update((key, values) for key, values in findings.items() if values)
    return details
