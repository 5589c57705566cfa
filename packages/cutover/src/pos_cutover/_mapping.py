"""The old workflow tools as the cutover sees them: names, replacements, the guide.

The table itself is pos_tool's (:data:`pos_tool.LEGACY_TOOLS`, one row per old tool);
this module reads it for the pre-check that lists every mention of an old tool in a
project's agent instructions, the rewrite of those mentions
(``--rewrite-instructions``: each old call becomes the pos_workflow call of its
``action``), the plan's list of tools that must be gone after the cutover, and the
migration guide's table (:func:`migration_table_markdown`).
"""

from __future__ import annotations

from pos_tool import LEGACY_TOOL_NAMES, LEGACY_TOOLS

__all__ = [
    "LEGACY_GROUP",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "migration_table_markdown",
    "replacement_for",
]

LEGACY_GROUP = "workflow_legacy"
"""The tool group that registers the archived old tools."""


def replacement_for(tool: str) -> str:
    """Return the pos_workflow call that replaces the old tool ``tool``.

    Raises:
        KeyError: ``tool`` is not one of :data:`LEGACY_TOOL_NAMES`.
    """
    return LEGACY_TOOLS[tool].replaced_by


def migration_table_markdown() -> str:
    """Return the migration guide's table (old call, new call, note) as markdown."""
    lines = ["| old tool call | pos_workflow call | note |", "|---|---|---|"]
    for tool in LEGACY_TOOLS.values():
        lines.append(f"| `{tool.signature}` | `{tool.replaced_by}` | {tool.note} |")
    return "\n".join(lines) + "\n"
