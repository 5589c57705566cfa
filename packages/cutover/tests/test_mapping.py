"""The old-tool table (pos_tool's, the only one): a replacement per old tool, the guide's table."""

from __future__ import annotations

import pos_tool
import pytest
from pos_cutover import LEGACY_TOOL_NAMES, LEGACY_TOOLS, migration_table_markdown, replacement_for
from pos_tool._actions import ARCHIVED_TOOL_ACTIONS


def test_every_old_tool_has_a_pos_workflow_replacement() -> None:
    assert LEGACY_TOOL_NAMES == (
        "start_workflow",
        "get_current_phase",
        "get_task",
        "complete_phase",
        "get_workflow_state",
        "create_workflow",
        "validate_workflow",
    )
    assert (
        replacement_for("start_workflow")
        == 'pos_workflow(action="start", workflow_type, target_file[, options])'
    )
    assert all("pos_workflow(action=" in r.replaced_by for r in LEGACY_TOOLS.values())
    with pytest.raises(KeyError):
        replacement_for("pos_workflow")


def test_the_migration_table_has_a_row_per_old_tool() -> None:
    table = migration_table_markdown().splitlines()

    assert table[0] == "| old tool call | pos_workflow call | note |"
    assert len(table) == 2 + len(LEGACY_TOOLS)
    assert all(
        f"`{LEGACY_TOOLS[name].signature}`" in row
        for name, row in zip(LEGACY_TOOLS, table[2:], strict=True)
    )


def test_the_cutover_reads_the_tools_own_table() -> None:
    """The archived adapters, the action hints and the cutover share one table, not copies."""
    assert LEGACY_TOOLS is pos_tool.LEGACY_TOOLS
    assert ARCHIVED_TOOL_ACTIONS == {
        "start_workflow": "start",
        "get_current_phase": "get_phase",
        "get_workflow_state": "get_state",
    }
    assert LEGACY_TOOLS["create_workflow"].signature == (
        'create_workflow(workflow_type, name, description, category="custom", phases=1)'
    )
