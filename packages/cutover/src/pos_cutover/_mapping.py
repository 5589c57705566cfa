"""The old workflow tools and the pos_workflow call that replaces each one.

This table is the single source for four things: the pre-check that lists every
mention of an old tool in a project's agent instructions, the rewrite of those
mentions (``--rewrite-instructions``: each old call becomes the pos_workflow call
of its ``action``), the plan's list of tools that must be gone after the cutover,
and the migration guide's table (:func:`migration_table_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LEGACY_GROUP",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "Replacement",
    "migration_table_markdown",
    "replacement_for",
]

LEGACY_GROUP = "workflow_legacy"
"""The tool group that registers the archived old tools."""


@dataclass(frozen=True)
class Replacement:
    """How one old tool call is written with pos_workflow.

    Attributes:
        tool: The old tool's name.
        old_call: The old call, with its parameters.
        new_call: The pos_workflow call that does the same.
        note: What differs, if anything.
        action: The pos_workflow action that does what the old tool did with the same
            parameters (None: no single call does; the rewrite leaves it to a human).
        params: The old tool's parameters in order (positional arguments map onto them).
    """

    tool: str
    old_call: str
    new_call: str
    note: str = ""
    action: str | None = None
    params: tuple[str, ...] = ()


LEGACY_TOOLS: dict[str, Replacement] = {
    r.tool: r
    for r in (
        Replacement(
            "start_workflow",
            "start_workflow(workflow_type, target_file, options)",
            'pos_workflow(action="start", workflow_type=..., target_file=...)',
            "options stays optional; the response carries phase_content and next_actions.",
            "start",
            ("workflow_type", "target_file", "options"),
        ),
        Replacement(
            "get_current_phase",
            "get_current_phase(session_id)",
            'pos_workflow(action="get_phase", session_id=...)',
            "phase_content includes artifacts_from_previous_phases.",
            "get_phase",
            ("session_id",),
        ),
        Replacement(
            "get_task",
            "get_task(session_id, phase, task_number)",
            'pos_workflow(action="get_task", session_id=..., phase=..., task_number=...)',
            "",
            "get_task",
            ("session_id", "phase", "task_number"),
        ),
        Replacement(
            "complete_phase",
            "complete_phase(session_id, phase, evidence)",
            'pos_workflow(action="complete_phase", session_id=..., phase=..., evidence={...})',
            "build evidence from phase_content.checkpoint (its evidence_example passes).",
            "complete_phase",
            ("session_id", "phase", "evidence"),
        ),
        Replacement(
            "get_workflow_state",
            "get_workflow_state(session_id)",
            'pos_workflow(action="get_state", session_id=...)',
            "get_session gives the full record with phase_history.",
            "get_state",
            ("session_id",),
        ),
        Replacement(
            "create_workflow",
            'create_workflow(workflow_type, name, description, category="custom", phases=1)',
            "add a folder .praxis-os/workflows/<workflow_type>/ (metadata.json + phases/), "
            'then pos_workflow(action="list_workflows")',
            "definitions are files now (the old tool only scaffolded them); list_workflows "
            "shows the new one or why it is invalid.",
        ),
        Replacement(
            "validate_workflow",
            "validate_workflow(workflow_type=None, path=None)",
            'pos_workflow(action="list_workflows")',
            "the old tool took exactly one of workflow_type and path; list_workflows checks "
            "every definition and reports invalid ones under invalid_workflows with their problems.",
        ),
    )
}
"""Every old workflow tool by name, with its replacement."""

LEGACY_TOOL_NAMES: tuple[str, ...] = tuple(LEGACY_TOOLS)
"""The names of the old workflow tools, in the order of :data:`LEGACY_TOOLS`."""


def replacement_for(tool: str) -> str:
    """Return the pos_workflow call that replaces the old tool ``tool``.

    Raises:
        KeyError: ``tool`` is not one of :data:`LEGACY_TOOL_NAMES`.
    """
    return LEGACY_TOOLS[tool].new_call


def migration_table_markdown() -> str:
    """Return the migration guide's table (old call, new call, note) as markdown."""
    lines = ["| old tool call | pos_workflow call | note |", "|---|---|---|"]
    for r in LEGACY_TOOLS.values():
        lines.append(f"| `{r.old_call}` | `{r.new_call}` | {r.note} |")
    return "\n".join(lines) + "\n"
