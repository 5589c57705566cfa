"""The seven old workflow tools: the one table everything about them is derived from.

The archived adapters (``_legacy_tools``), the hint that answers an old tool name sent
as an action (``_actions``), and the cutover's pre-checks, instruction rewrite and
migration guide (``pos_cutover``) all read this table; nothing else names the old
tools or says what replaces them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.types import ToolAnnotations

__all__ = [
    "ARCHIVED_TOOL_ACTIONS",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "WORKFLOWS_DIR",
    "LegacyTool",
]

WORKFLOWS_DIR = ".praxis-os/workflows"
"""Where project workflows live, relative to the project root (first on the search path)."""


@dataclass(frozen=True)
class LegacyTool:  # pylint: disable=too-many-instance-attributes  # one field per table column
    """One archived tool.

    Attributes:
        name: The tool name (fixed: the cutover's plan and pre-checks refer to it).
        replaced_by: The pos_workflow call (or practice) that replaces it.
        summary: One sentence saying what it does.
        required: Parameters the call cannot run without.
        optional: Parameters with defaults, by name.
        example: Arguments of a correct call, for error remediations.
        action: The pos_workflow action that does what the tool did with the same
            parameters (None: no single call does; the tool has its own handler and the
            cutover's instruction rewrite leaves its mentions to a human).
        writes: Whether the tool changes anything (a session or a workflow folder).
        note: What differs for a user moving to the replacement (the migration guide).
    """

    name: str
    replaced_by: str
    summary: str
    required: tuple[str, ...]
    optional: Mapping[str, Any]
    example: Mapping[str, Any]
    action: str | None = None
    writes: bool = False
    note: str = ""

    @property
    def annotations(self) -> ToolAnnotations:
        """Read-only and idempotent, unless the tool writes (a session or a folder)."""
        return _annotations(writes=self.writes)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter, required first, in signature order."""
        return self.required + tuple(self.optional)

    @property
    def signature(self) -> str:
        """The old call as documented: ``create_workflow(workflow_type, ..., phases=1)``."""
        defaults = [
            f"{k}={'None' if v is None else json.dumps(v)}" for k, v in self.optional.items()
        ]
        return f"{self.name}({', '.join([*self.required, *defaults])})"

    def description(self) -> str:
        """Return the tool description: archived, its replacement, then what it does."""
        return f"Archived: use {self.replaced_by}. {self.summary}"

    def example_call(self) -> str:
        """Return a correct call as ``get_task(session_id="...", phase=1, task_number=1)``."""
        args = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.example.items())
        return f"{self.name}({args})"


_SID = "test_generation_v3_calculator_py_20251023_143022_3f9a1c"

LEGACY_TOOLS: dict[str, LegacyTool] = {
    tool.name: tool
    for tool in (
        LegacyTool(
            "start_workflow",
            'pos_workflow(action="start", workflow_type, target_file[, options])',
            "Starts a session of workflow_type on target_file; returns session_id and "
            "the first phase with its checkpoint.",
            required=("workflow_type", "target_file"),
            optional={"options": None},
            example={"workflow_type": "test_generation_v3", "target_file": "src/calculator.py"},
            action="start",
            writes=True,
            note="options stays optional; the response carries phase_content and next_actions.",
        ),
        LegacyTool(
            "get_current_phase",
            'pos_workflow(action="get_phase", session_id)',
            "Returns the session's current phase with its tasks, checkpoint and the "
            "artifacts of earlier phases.",
            required=("session_id",),
            optional={},
            example={"session_id": _SID},
            action="get_phase",
            note="phase_content includes artifacts_from_previous_phases.",
        ),
        LegacyTool(
            "get_task",
            'pos_workflow(action="get_task", session_id, phase, task_number)',
            "Returns one task of a reached phase with its execution steps.",
            required=("session_id", "phase", "task_number"),
            optional={},
            example={"session_id": _SID, "phase": 1, "task_number": 1},
            action="get_task",
        ),
        LegacyTool(
            "complete_phase",
            'pos_workflow(action="complete_phase", session_id, phase, evidence)',
            "Submits the phase's evidence: passes its checkpoint and advances, or lists "
            "what is missing.",
            required=("session_id", "phase", "evidence"),
            optional={},
            example={"session_id": _SID, "phase": 1, "evidence": {"summary": "..."}},
            action="complete_phase",
            writes=True,
            note="build evidence from phase_content.checkpoint (its evidence_example passes).",
        ),
        LegacyTool(
            "get_workflow_state",
            'pos_workflow(action="get_state", session_id)',
            "Returns the session's progress, artifacts, status and whether it can resume.",
            required=("session_id",),
            optional={},
            example={"session_id": _SID},
            action="get_state",
            note="get_session gives the full record with phase_history.",
        ),
        LegacyTool(
            "create_workflow",
            f"a folder {WORKFLOWS_DIR}/<workflow_type>/ written by hand, then "
            'pos_workflow(action="list_workflows")',
            f"Scaffolds {WORKFLOWS_DIR}/<workflow_type>/: metadata.json, one page, task "
            "and checkpoint per phase; never overwrites.",
            required=("workflow_type", "name", "description"),
            optional={"category": "custom", "phases": 1},
            example={
                "workflow_type": "code_review_v1",
                "name": "Code review",
                "description": "Review a module.",
            },
            writes=True,
            note="definitions are files now (the old tool only scaffolded them); list_workflows "
            "shows the new one or why it is invalid.",
        ),
        LegacyTool(
            "validate_workflow",
            'pos_workflow(action="list_workflows") (see invalid_workflows)',
            "Checks a workflow folder (by workflow_type, or project-relative path) with the "
            "engine's loader: valid, problems, format, counts.",
            required=(),
            optional={"workflow_type": None, "path": None},
            example={"workflow_type": "test_generation_v3"},
            note="the old tool took exactly one of workflow_type and path; list_workflows checks "
            "every definition and reports invalid ones under invalid_workflows with their problems.",
        ),
    )
}
"""The seven archived tools by name, in the order they are registered."""

LEGACY_TOOL_NAMES: tuple[str, ...] = tuple(LEGACY_TOOLS)
"""The names of the archived tools (the ``workflow_legacy`` group)."""

ARCHIVED_TOOL_ACTIONS: dict[str, str] = {
    tool.name: tool.action
    for tool in LEGACY_TOOLS.values()
    if tool.action is not None and tool.action != tool.name
}
"""Old tool names an agent may still send as an action, and the action that replaced each."""


@functools.cache
def _annotations(*, writes: bool) -> ToolAnnotations:
    # Imported here, not at the top: the migration guide and the cutover's checks read this
    # table, and importing the MCP SDK would cost them most of their start-up time.
    from mcp.types import ToolAnnotations  # noqa: PLC0415

    return ToolAnnotations(
        read_only_hint=not writes,
        destructive_hint=False,
        idempotent_hint=not writes,
        open_world_hint=False,
    )
