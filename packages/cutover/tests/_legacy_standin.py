"""Serve pos_tool with a stand-in ``workflow_legacy`` group while pos_tool has none yet.

Used by the tests' server launcher only when ``pos_tool.TOOL_GROUPS`` lacks the
group; the stand-in registers the seven old tool names as thin adapters over the
engine, as the real group does.

Run as: python _legacy_standin.py serve --project-root P ...
"""

from __future__ import annotations

import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from pos_tool import TOOL_GROUPS, ServerParts, ToolGroup
from pos_tool.cli import main

NAMES = (
    "start_workflow",
    "get_current_phase",
    "get_task",
    "complete_phase",
    "get_workflow_state",
    "create_workflow",
    "validate_workflow",
)


def _register(mcp: MCPServer, parts: ServerParts) -> None:
    engine = parts.engine

    def start_workflow(
        workflow_type: str, target_file: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Start a workflow session."""
        return engine.start_workflow(workflow_type, target_file, options)

    def get_current_phase(session_id: str) -> dict[str, Any]:
        """Current phase."""
        return engine.get_current_phase(session_id)

    def get_task(session_id: str, phase: int, task_number: int) -> dict[str, Any]:
        """One task."""
        return engine.get_task(session_id, phase, task_number)

    def complete_phase(session_id: str, phase: int, evidence: dict[str, Any]) -> dict[str, Any]:
        """Complete a phase."""
        return engine.complete_phase(session_id, phase, evidence)

    def get_workflow_state(session_id: str) -> dict[str, Any]:
        """Workflow state."""
        return engine.get_workflow_state(session_id)

    def create_workflow(name: str) -> dict[str, Any]:
        """Create a workflow (archived)."""
        return {"status": "error", "error": "archived"}

    def validate_workflow(workflow_type: str) -> dict[str, Any]:
        """Validate a workflow."""
        return engine.list_workflows()

    for fn in (
        start_workflow,
        get_current_phase,
        get_task,
        complete_phase,
        get_workflow_state,
        create_workflow,
        validate_workflow,
    ):
        mcp.add_tool(fn)
    parts.tools.extend(NAMES)


if "workflow_legacy" not in TOOL_GROUPS:
    TOOL_GROUPS["workflow_legacy"] = ToolGroup(
        "workflow_legacy", "stand-in old tools", NAMES, _register
    )

sys.exit(main(sys.argv[1:]))
