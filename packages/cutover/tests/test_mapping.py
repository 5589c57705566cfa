"""The old-tool table: one replacement per old tool, rendered as the migration guide's table."""

from __future__ import annotations

import pytest
from pos_cutover import LEGACY_TOOL_NAMES, LEGACY_TOOLS, migration_table_markdown, replacement_for


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
        == 'pos_workflow(action="start", workflow_type=..., target_file=...)'
    )
    assert all("pos_workflow(action=" in r.new_call for r in LEGACY_TOOLS.values())
    with pytest.raises(KeyError):
        replacement_for("pos_workflow")


def test_the_migration_table_has_a_row_per_old_tool() -> None:
    table = migration_table_markdown().splitlines()

    assert table[0] == "| old tool call | pos_workflow call | note |"
    assert len(table) == 2 + len(LEGACY_TOOLS)
    assert all(
        f"`{LEGACY_TOOLS[name].old_call}`" in row
        for name, row in zip(LEGACY_TOOLS, table[2:], strict=True)
    )
