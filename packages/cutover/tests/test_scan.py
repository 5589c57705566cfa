"""The pre-check's scan of agent instructions and workflow markdown for old tool names."""

from __future__ import annotations

from pathlib import Path

from pos_cutover import scan_project


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_scan_finds_old_tool_names_with_file_and_line_in_every_instruction_source(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "CLAUDE.md", "# Rules\n\nCall start_workflow first.\n")
    _write(tmp_path, "AGENTS.md", "Use `get_current_phase(session_id)`.\n")
    _write(tmp_path, ".cursorrules", "one\ntwo get_workflow_state\n")
    _write(tmp_path, ".cursor/rules/flow.mdc", "---\n---\nthen create_workflow\n")
    _write(tmp_path, ".clinerules/10-flow.md", "validate_workflow before use\n")
    _write(tmp_path, ".praxis-os/workflows/w/phases/1/phase.md", "x\ny\ncall complete_phase now\n")
    _write(tmp_path, "universal/workflows/u/phases/0/task-1-a.md", "get_task(session_id, 0, 1)\n")
    _write(tmp_path, "docs/other.md", "start_workflow is not scanned here\n")

    mentions = scan_project(tmp_path)

    assert [(m.location, m.tool) for m in mentions] == [
        (".clinerules/10-flow.md:1", "validate_workflow"),
        (".cursor/rules/flow.mdc:3", "create_workflow"),
        (".cursorrules:2", "get_workflow_state"),
        (".praxis-os/workflows/w/phases/1/phase.md:3", "complete_phase"),
        ("AGENTS.md:1", "get_current_phase"),
        ("CLAUDE.md:3", "start_workflow"),
        ("universal/workflows/u/phases/0/task-1-a.md:1", "get_task"),
    ]
    assert mentions[5].to_dict() == {
        "file": "CLAUDE.md",
        "line": 3,
        "tool": "start_workflow",
        "text": "Call start_workflow first.",
        "replacement": 'pos_workflow(action="start", workflow_type, target_file[, options])',
        "location": "CLAUDE.md:3",
    }


def test_the_scan_leaves_pos_workflow_calls_and_longer_names_alone(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "CLAUDE.md",
        'pos_workflow(action="get_task", session_id=s, phase=1, task_number=1)\n'
        'send {"action": "complete_phase"} or action=get_task\n'
        "my_get_task_helper and get_tasks are other names\n"
        "but get_task alone is old\n",
    )

    assert [m.location for m in scan_project(tmp_path)] == ["CLAUDE.md:4"]


def test_the_scan_of_a_project_without_instructions_finds_nothing(tmp_path: Path) -> None:
    assert scan_project(tmp_path) == []
