"""The ``workflow_legacy`` tool group: the archived workflow tools, as thin adapters.

Before the cutover, servers exposed one tool per operation. The cutover toolkit
moves a project from a registry naming ``workflow_legacy`` to one naming
``workflow`` and a rollback moves it back, so these tools exist for that alone.
They run over the same engine and store as ``pos_workflow``, so a session started
through either surface continues through the other:

- five tools delegate to the pos_workflow dispatcher (``start_workflow`` is
  ``start``, ``get_current_phase`` is ``get_phase``, ...) and answer exactly as
  the action does, with ``action`` naming the legacy tool;
- ``create_workflow`` scaffolds a project workflow that loads as written;
- ``validate_workflow`` checks a workflow folder with the engine's own loader.

Every call answers one JSON object with ``status`` and ``action``; no exception
escapes and no answer carries a server path.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from jsonschema import Draft202012Validator
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pos_engine import (
    ConflictError,
    DefinitionError,
    DefinitionSource,
    InternalError,
    LimitError,
    NotFoundError,
    PosError,
    WorkflowRegistry,
    definition_schema,
    fsync_dir,
    is_legacy_metadata,
    legacy_findings,
    load_definition,
    parse_json_bounded,
    read_bounded_text,
    schema_problems,
)
from pos_engine.guards import validate_target_file, validate_workflow_type
from pydantic import WithJsonSchema

from ._actions import Backends
from ._arguments import (
    ActionInputError,
    Parameter,
    argument_error,
    check_arguments,
    join_names,
    unknown_names,
)
from ._envelope import (
    Answer,
    WorkflowResponse,
    answer_call,
    failure,
    rejection,
    scrub,
    sent_names,
    server_paths,
    success,
    to_json,
    to_result,
)
from ._legacy_table import LEGACY_TOOLS, WORKFLOWS_DIR, LegacyTool
from ._tool import answers_inline, run_action

if TYPE_CHECKING:
    from ._monitor import Monitor
    from ._registry import ServerParts

__all__ = [
    "LEGACY_PARAMETERS",
    "MAX_SCAFFOLD_PHASES",
    "call_legacy_tool",
    "register_legacy_tools",
]

MAX_SCAFFOLD_PHASES = 20
"""Most phases ``create_workflow`` scaffolds in one call."""

LEGACY_PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "workflow_type", "string", "Workflow type (a-z, 0-9, _), as list_workflows shows."
        ),
        Parameter("target_file", "string", "File the workflow works on, relative to the project."),
        Parameter("options", "object", "Free-form options stored with the session."),
        Parameter("session_id", "string", "Session id returned by start_workflow."),
        Parameter("phase", "integer", "Phase number."),
        Parameter("task_number", "integer", "Task number within the phase, from 1."),
        Parameter(
            "evidence", "object", "Evidence shaped as phase_content.checkpoint.evidence_schema."
        ),
        Parameter("name", "string", "Human name of the new workflow (1-120 characters)."),
        Parameter("description", "string", "What the new workflow does (1-1000 characters)."),
        Parameter("category", "string", "Category of the new workflow (a-z, 0-9, _)."),
        Parameter("phases", "integer", f"Phases to scaffold (1-{MAX_SCAFFOLD_PHASES})."),
        Parameter("path", "string", "Workflow folder relative to the project (or workflow_type)."),
    )
}
"""Every parameter of the legacy tools, with the JSON type each must have."""

Handler = Callable[[Backends, Mapping[str, Any]], dict[str, Any]]


def _remediation(tool: LegacyTool) -> str:
    """How to call ``tool`` correctly, said by every argument error of the tool."""
    return f"Call it like: {tool.example_call()} (archived: prefer {tool.replaced_by})."


# ------------------------------------------------------------ create_workflow

_METADATA_VALIDATOR = Draft202012Validator(definition_schema())
_SCHEMA_PROPERTIES: dict[str, Any] = definition_schema()["properties"]
_STALE_STAGING_SECONDS = 3600
_CATEGORY = re.compile(_SCHEMA_PROPERTIES["category"]["pattern"])
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHOWN = 60


def _text_problem(name: str, value: str, *, single_line: bool) -> str | None:
    """Return why a free-text value breaks the definition schema's limits, if it does."""
    limit = int(_SCHEMA_PROPERTIES[name]["maxLength"])
    if not value.strip():
        return f"{name} must not be empty"
    if len(value) > limit:
        return f"{name} is {len(value)} characters long, over the {limit} allowed"
    if single_line and _CONTROL.search(value):
        return f"{name} {value!r:.{_SHOWN}} must be one line without control characters"
    return None


def _scaffold_problems(p: Mapping[str, Any]) -> list[dict[str, str]]:
    """Check every create_workflow value against the definition rules; return each finding."""
    problems: list[dict[str, str]] = []
    try:
        validate_workflow_type(p["workflow_type"])
    except PosError as exc:
        problems.append({"parameter": "workflow_type", "message": exc.message})
    for name, single_line in (("name", True), ("description", False)):
        problem = _text_problem(name, p[name], single_line=single_line)
        if problem:
            problems.append({"parameter": name, "message": problem})
    category = p.get("category", "custom")
    if not _CATEGORY.fullmatch(category):
        problems.append(
            {
                "parameter": "category",
                "message": f"category {category!r:.{_SHOWN}} must be 2-64 characters of "
                "lowercase letters, digits and '_', starting with a letter",
            }
        )
    phases = p.get("phases", 1)
    if not 1 <= phases <= MAX_SCAFFOLD_PHASES:
        problems.append(
            {
                "parameter": "phases",
                "message": f"phases is {phases}; create_workflow scaffolds 1 to "
                f"{MAX_SCAFFOLD_PHASES} phases",
            }
        )
    return problems


def _raise_scaffold_problems(problems: list[dict[str, str]], phases: int) -> None:
    tool = LEGACY_TOOLS["create_workflow"]
    error = argument_error(
        tool.name,
        required=tool.required,
        optional=tool.optional,
        remediation=_remediation(tool),
        invalid=problems,
    )
    if len(problems) == 1 and phases > MAX_SCAFFOLD_PHASES:
        raise LimitError(error.message, remediation=error.remediation, details=error.details)
    raise error


def _checkpoint(number: int) -> dict[str, Any]:
    evidence = f"phase_{number}_summary"
    return {
        "required_evidence": [evidence],
        "evidence_schema": {
            "type": "object",
            "properties": {evidence: {"type": "string", "minLength": 1}},
            "required": [evidence],
        },
        "validation": f"{evidence} is a non-empty string saying what phase {number} produced.",
        "evidence_example": {evidence: f"Phase {number} done: replace with what it produced."},
    }


def _scaffold_metadata(p: Mapping[str, Any]) -> dict[str, Any]:
    phases = p.get("phases", 1)
    return {
        "workflow_type": p["workflow_type"],
        "version": "1.0.0",
        "name": p["name"].strip(),
        "description": p["description"].strip(),
        "category": p.get("category", "custom"),
        "start_phase": 1,
        "estimated_duration": f"{15 * phases} minutes",
        "phases": [
            {
                "number": number,
                "title": f"Phase {number}",
                "purpose": f"Placeholder purpose of phase {number}: replace it.",
                "estimated_duration": "15 minutes",
                "tasks": [{"number": 1, "name": "do-the-work", "file": "task-1-do-the-work.md"}],
                "checkpoint": _checkpoint(number),
            }
            for number in range(1, phases + 1)
        ],
    }


def _phase_page(number: int) -> str:
    return (
        f"# Phase {number}\n\n"
        f"Placeholder page of phase {number}: say what the phase is for and how to work "
        "through its tasks, then list the evidence its checkpoint demands.\n"
    )


def _task_page(number: int) -> str:
    # The strict task format of pos_engine._tasks: title, duration, description,
    # numbered steps (Command + Expected output lines) and artifact bullets.
    return (
        "# Task 1: Do the work\n\n"
        "**Estimated duration:** 15 minutes\n\n"
        f"Placeholder task of phase {number} on {{target_file}}: replace this paragraph with "
        "what the agent must do.\n\n"
        "## Execution steps\n\n"
        "### Step 1: Read the target file\n"
        "Command: `sed -n '1,200p' {target_file}`\n"
        "Expected output: The file's content.\n\n"
        "### Step 2: Record the result\n"
        "Command: none\n"
        "Expected output: A one-paragraph summary.\n\n"
        "## Artifacts to produce\n\n"
        f"- `phase_{number}_summary`: What phase {number} produced.\n"
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _remove_stale_staging(base: Path) -> None:
    """Remove staging folders that a crashed create_workflow left behind (over an hour old)."""
    now = time.time()
    for stale in base.glob(".create-*"):
        try:
            if now - stale.lstat().st_mtime > _STALE_STAGING_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            continue


def _refuse_existing(registry: WorkflowRegistry, workflow_type: str) -> None:
    """Raise ConflictError when any folder or alias on the search path has the name."""
    remediation = (
        "Choose another workflow_type, or edit the existing definition and check it with "
        "validate_workflow."
    )
    for source, base in registry.search_path:
        if (base / workflow_type).exists() or (base / workflow_type).is_symlink():
            where = f"{WORKFLOWS_DIR}/{workflow_type}/" if source == "project" else source
            raise ConflictError(
                f"workflow_type {workflow_type!r} already exists ({where}); "
                "create_workflow never overwrites a workflow",
                remediation=remediation,
            )
    try:
        existing = registry.get(workflow_type)
    except (NotFoundError, DefinitionError):
        return
    raise ConflictError(
        f"workflow_type {workflow_type!r} is already an alias of {existing.workflow_type!r}",
        remediation=remediation,
    )


def _create_workflow(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    problems = _scaffold_problems(p)
    if problems:
        _raise_scaffold_problems(problems, p.get("phases", 1))
    metadata = _scaffold_metadata(p)
    wtype: str = metadata["workflow_type"]
    root = b.engine.project_root
    # Resolves symlinks: a .praxis-os that leads out of the project is refused.
    relative = validate_target_file(f"{WORKFLOWS_DIR}/{wtype}", root)
    target = root.resolve() / relative
    _refuse_existing(b.engine.registry, wtype)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target.parent)
    # The staging folder starts with '.', so the registry never scans it.
    staging = Path(tempfile.mkdtemp(prefix=".create-", dir=target.parent))
    try:
        folder = staging / wtype
        _write(folder / "metadata.json", json.dumps(metadata, indent=2) + "\n")
        for phase in metadata["phases"]:
            phase_dir = folder / "phases" / str(phase["number"])
            _write(phase_dir / "phase.md", _phase_page(phase["number"]))
            _write(phase_dir / phase["tasks"][0]["file"], _task_page(phase["number"]))
        try:
            definition = load_definition(folder, "project")
        except DefinitionError as exc:
            raise InternalError(f"the scaffold of {wtype!r} does not load: {exc.message}") from exc
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        _refuse_existing(b.engine.registry, wtype)  # again: it may have appeared meanwhile
        try:
            # One rename publishes the whole folder: never half a workflow.
            os.rename(folder, target)
        except OSError:
            raise ConflictError(
                f"workflow_type {wtype!r} appeared while it was being created",
                remediation="Call validate_workflow on it, or choose another workflow_type.",
            ) from None
        fsync_dir(target.parent)
        b.engine.registry.invalidate()  # the next list_workflows shows it at once
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "created": True,
        "workflow_type": wtype,
        "folder": f"{relative}/",
        "files": files,
        "total_phases": definition.total_phases,
        "task_count": sum(len(phase.tasks) for phase in definition.phases),
        "workflow": definition.summary(),
        "next_steps": (
            "Replace the placeholder pages, tasks and checkpoints, then check the folder "
            "with validate_workflow."
        ),
        "next_actions": ["list_workflows", "start"],
    }


# ----------------------------------------------------------- validate_workflow


def _shown_folder(folder: Path, source: str, root: Path) -> str:
    """Return ``folder`` as the caller may see it: project-relative, never absolute."""
    for base in (root, root.resolve()):
        try:
            return folder.relative_to(base).as_posix() + "/"
        except ValueError:
            continue
    return f"<{source}>/{folder.name}/"


def _folder_by_type(
    registry: WorkflowRegistry, workflow_type: str
) -> tuple[Path, DefinitionSource]:
    for source, base in registry.search_path:
        if (base / workflow_type).is_dir():
            return base / workflow_type, source
    try:
        definition = registry.get(workflow_type)  # an alias
    except NotFoundError as exc:
        raise NotFoundError(
            exc.message,
            remediation="Pass a workflow_type that list_workflows shows, or path= for a folder.",
            details=exc.details,
        ) from None
    return definition.path, definition.source


def _folder_by_path(root: Path, path: object) -> tuple[Path, DefinitionSource]:
    relative = validate_target_file(path, root)
    folder = root.resolve() / relative
    if not folder.is_dir():
        raise NotFoundError(
            f"path {path!r:.{_SHOWN}} is not a folder in the project",
            remediation=f"Pass the workflow's folder, e.g. '{WORKFLOWS_DIR}/my_workflow'.",
        )
    source: DefinitionSource = (
        "universal" if relative.startswith("universal/workflows/") else "project"
    )
    return folder, source


def _read_metadata(folder: Path) -> object:
    try:
        return parse_json_bounded(read_bounded_text(folder / "metadata.json", inside=folder))
    except (OSError, ValueError):  # BoundedInputError is a ValueError
        return None


def _schema_problems(metadata: object) -> list[dict[str, str]]:
    """Every schema problem of a metadata.json in our format (the loader reports the first)."""
    found = schema_problems(_METADATA_VALIDATOR, metadata)
    lines = found.lines(prefix="metadata.json")
    return [
        {"field": pointer or "/", "message": line}
        for (pointer, _), line in zip(found.problems, lines, strict=True)
    ]


def _counts(metadata: object) -> dict[str, int | None]:
    phases = metadata.get("phases") if isinstance(metadata, dict) else None
    if not isinstance(phases, list):
        return {"phases": None, "tasks": None}
    tasks = [p.get("tasks") for p in phases if isinstance(p, dict)]
    countable = len(tasks) == len(phases) and all(isinstance(t, list) for t in tasks)
    return {
        "phases": len(phases),
        "tasks": sum(len(t) for t in tasks if isinstance(t, list)) if countable else None,
    }


def _validate_workflow(b: Backends, p: Mapping[str, Any]) -> dict[str, Any]:
    workflow_type, path = p.get("workflow_type"), p.get("path")
    if (workflow_type is None) == (path is None):
        raise ActionInputError(
            "validate_workflow takes exactly one of workflow_type and path"
            + ("" if workflow_type is None else ", not both"),
            remediation=(
                'Call validate_workflow(workflow_type="my_workflow") or '
                f'validate_workflow(path="{WORKFLOWS_DIR}/my_workflow").'
            ),
            details={"optional": ["workflow_type", "path"]},
        )
    root = b.engine.project_root
    if workflow_type is not None:
        folder, source = _folder_by_type(b.engine.registry, validate_workflow_type(workflow_type))
    else:
        folder, source = _folder_by_path(root, path)
    report: dict[str, Any] = {"folder": _shown_folder(folder, source, root), "source": source}
    metadata = _read_metadata(folder)
    try:
        definition = load_definition(folder, source)
    except DefinitionError as exc:
        problems = [] if is_legacy_metadata(metadata) else _schema_problems(metadata)
        if not problems or metadata is None:
            problems = [{"field": str(exc.details.get("field", "")), "message": exc.message}]
        kind = "unknown" if not isinstance(metadata, dict) else "pos"
        wtype = metadata.get("workflow_type") if isinstance(metadata, dict) else None
        return {
            "valid": False,
            "workflow_type": wtype if isinstance(wtype, str) else folder.name,
            **report,
            "format": "legacy" if is_legacy_metadata(metadata) else kind,
            "problems": problems,
            "problem_count": len(problems),
            "counts": _counts(metadata),
            "warnings": [],
            "next_actions": ["list_workflows"],
        }
    return {
        "valid": True,
        "workflow_type": definition.workflow_type,
        **report,
        "format": definition.format,
        "problems": [],
        "problem_count": 0,
        "counts": {
            "phases": definition.total_phases,
            "tasks": sum(len(phase.tasks) for phase in definition.phases),
        },
        "warnings": legacy_findings(definition),
        "next_actions": ["list_workflows", "start"],
    }


# ------------------------------------------------------------------- the table

_HANDLERS: dict[str, Handler] = {
    "create_workflow": _create_workflow,
    "validate_workflow": _validate_workflow,
}
"""How the tools that are no single pos_workflow action run (every other row has an action)."""


# ------------------------------------------------------------------ dispatch


def _checked_arguments(
    tool: LegacyTool, arguments: Mapping[str, Any], sent: Collection[str]
) -> dict[str, Any]:
    """Check one legacy call's arguments as ``pos_workflow`` checks an action's; return them.

    Raises:
        ActionInputError: An argument is unknown, missing or of the wrong type;
            the message lists every finding.
    """
    return check_arguments(
        tool.name,
        arguments,
        known={name: LEGACY_PARAMETERS[name] for name in tool.parameters},
        required=tool.required,
        optional=tool.optional,
        unknown=unknown_names((*sent, *arguments), tool.parameters),
        unknown_reason=f"{tool.name} takes {join_names(tool.parameters)}",
        remediation=lambda _: _remediation(tool),
    )


def _run_legacy(
    backends: Backends, tool: LegacyTool, arguments: Mapping[str, Any], sent: Collection[str]
) -> tuple[dict[str, Any], str]:
    """Check and run one legacy call (blocking: runs in a worker thread)."""
    try:
        params = _checked_arguments(tool, arguments, sent)
    except ActionInputError as exc:
        response = rejection(tool.name, exc)
        return response, to_json(response)
    if tool.action is not None:
        # The pos_workflow dispatcher itself: same checks, answers and error handling.
        response = run_action(backends, {"action": tool.action, **params})
    else:
        root = backends.engine.project_root
        try:
            result = _HANDLERS[tool.name](backends, params)
        except ActionInputError as exc:
            response = rejection(tool.name, exc)
        except PosError as exc:
            response = failure(tool.name, exc, root)
        else:
            response = success(tool.name, scrub(result, server_paths(root)))
    response["action"] = tool.name
    return response, to_json(response)


async def call_legacy_tool(
    backends: Backends,
    tool: LegacyTool,
    arguments: Mapping[str, Any],
    sent: Collection[str] = (),
) -> dict[str, Any]:
    """Run one legacy tool call and return its JSON response; never raises.

    Args:
        backends: The engine and state manager to run against.
        tool: The legacy tool called.
        arguments: The call's arguments by name (``None`` means not given).
        sent: Every argument name the client sent, to report unknown ones.
    """
    response, _ = await _respond(backends, tool, arguments, sent)
    return response


async def _respond(
    backends: Backends,
    tool: LegacyTool,
    arguments: Mapping[str, Any],
    sent: Collection[str],
    monitor: Monitor | None = None,
) -> Answer:
    return await answer_call(
        lambda: _run_legacy(backends, tool, arguments, sent),
        tool=tool.name,
        label=tool.action or tool.name,
        action=tool.name,
        monitor=monitor,
        inline=not tool.writes and answers_inline(backends, tool.action),
    )


# -------------------------------------------------------------- registration


def _parameter_schema(name: str) -> dict[str, Any]:
    """The published schema of one parameter: its plain type (see ``Parameter.json_schema``)."""
    return LEGACY_PARAMETERS[name].json_schema()


def _signature(tool: LegacyTool) -> inspect.Signature:
    """The tool function's signature: every value accepted at the SDK step, exact schema shown."""
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Any, WithJsonSchema(_parameter_schema(name))],
            default=tool.optional.get(name, inspect.Parameter.empty),
        )
        for name in tool.parameters
    ]
    params.append(
        inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context, default=None)
    )
    return inspect.Signature(params, return_annotation=Annotated[CallToolResult, WorkflowResponse])


def _tool_function(
    tool: LegacyTool, backends: Backends, monitor: Monitor | None
) -> Callable[..., Any]:
    async def legacy_tool(ctx: Context[Any, Any] | None = None, **arguments: Any) -> CallToolResult:
        return to_result(*await _respond(backends, tool, arguments, sent_names(ctx), monitor))

    signature = _signature(tool)
    legacy_tool.__signature__ = signature  # type: ignore[attr-defined]
    legacy_tool.__annotations__ = {
        **{p.name: p.annotation for p in signature.parameters.values()},
        "return": signature.return_annotation,
    }
    legacy_tool.__name__ = legacy_tool.__qualname__ = tool.name
    return legacy_tool


async def _fill_required_keys(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """Give a legacy call that leaves out a required argument an explicit null one.

    Without this the SDK would reject the call with a pydantic dump before our
    handler could answer with its structured error naming what is missing.
    """
    params = ctx.params
    name = params.get("name") if params is not None else None
    if ctx.method == "tools/call" and params is not None and name in LEGACY_TOOLS:
        arguments = params.get("arguments")
        if arguments is None or isinstance(arguments, Mapping):
            absent = [p for p in LEGACY_TOOLS[name].required if p not in (arguments or {})]
            if absent:
                filled = {**(arguments or {}), **dict.fromkeys(absent)}
                ctx = dataclasses.replace(ctx, params={**params, "arguments": filled})
    return await call_next(ctx)


def register_legacy_tools(mcp: MCPServer, parts: ServerParts) -> None:
    """Register the seven archived tools on ``mcp``, over the parts' engine and store."""
    backends = Backends(parts.engine, parts.engine.state_manager)
    for tool in LEGACY_TOOLS.values():
        mcp.add_tool(
            _tool_function(tool, backends, parts.monitor),
            name=tool.name,
            description=tool.description(),
            annotations=tool.annotations,
            structured_output=True,
        )
        parts.tools.append(tool.name)
    mcp.middleware.append(_fill_required_keys)
