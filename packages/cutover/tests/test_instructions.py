"""Agent instructions: old tool mentions grouped per file, and rewritten as pos_workflow calls."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pos_cutover import scan_project
from pos_cutover._instructions import group_mentions, plan_instruction_changes, rewrite_text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Use get_current_phase first.", 'Use pos_workflow(action="get_phase") first.'),
        ("Use `get_task()` per task.", 'Use `pos_workflow(action="get_task")` per task.'),
        (
            "get_task(session_id, phase=1, task_number=2)",
            'pos_workflow(action="get_task", session_id=session_id, phase=1, task_number=2)',
        ),
        (
            'start_workflow("spec_execution_v1", ...)',
            'pos_workflow(action="start", workflow_type="spec_execution_v1", ...)',
        ),
        (
            "task = get_task(sid, phase['current_phase'], meta['n'])",
            "task = pos_workflow(action=\"get_task\", session_id=sid, phase=phase['current_phase'], "
            "task_number=meta['n'])",
        ),
        (
            'x = mcp_agent-os-rag_get_workflow_state(session_id="w")',
            'x = pos_workflow(action="get_state", session_id="w")',
        ),
        ("mcp__agent-os-rag__complete_phase", 'pos_workflow(action="complete_phase")'),
        (
            "result = complete_phase(\n    session_id=sid,  # the session, from start\n    phase=1,\n)",
            'result = pos_workflow(action="complete_phase",\n    session_id=sid,  # the session, '
            "from start\n    phase=1,\n)",
        ),
    ],
)
def test_old_calls_and_mentions_become_pos_workflow_calls(old: str, new: str) -> None:
    text, done, left = rewrite_text(old)

    assert (text, left) == (new, [])
    assert sum(done.values()) == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("create_workflow(name)", "line 1: create_workflow (no single pos_workflow call: "),
        (
            '"autoApprove": ["get_task"]',
            "line 1: get_task (a quoted name, data rather than a call)",
        ),
        ("get_task(session_id, (", "line 1: get_task (its parentheses do not close)"),
    ],
)
def test_what_has_no_single_rewrite_is_left_as_it_is_and_reported(text: str, why: str) -> None:
    new, done, left = rewrite_text(text)

    assert (new, done) == (text, Counter())
    assert len(left) == 1 and left[0].startswith(why)


def test_new_style_calls_and_action_names_are_not_touched() -> None:
    text = 'pos_workflow(action="get_task", session_id=s)\ncall it with action="complete_phase".\n'

    assert rewrite_text(text) == (text, Counter(), [])


def test_mentions_are_grouped_one_line_per_file_and_the_rewrite_plans_each_file(
    tmp_path: Path,
) -> None:
    (tmp_path / ".cursor/rules").mkdir(parents=True)
    (tmp_path / ".cursor/rules/flow.mdc").write_text("Call get_task, then get_task again.\n")
    standards = tmp_path / ".praxis-os/standards/universal"
    standards.mkdir(parents=True)
    (standards / "guide.md").write_text("1. `start_workflow`\n2. `create_workflow`\n")
    (tmp_path / "AGENTS.md").write_text("Nothing old here.\n")

    grouped = group_mentions(scan_project(tmp_path))
    changes = plan_instruction_changes(tmp_path)

    assert [(g.file, g.summary(), g.lines) for g in grouped] == [
        (".cursor/rules/flow.mdc", "2 mention(s): get_task x2", (1,)),
        (
            ".praxis-os/standards/universal/guide.md",
            "2 mention(s): start_workflow, create_workflow",
            (1, 2),
        ),
    ]
    assert [(c.path, c.after.decode(), c.summary[0]) for c in changes] == [
        (
            ".cursor/rules/flow.mdc",
            'Call pos_workflow(action="get_task"), then pos_workflow(action="get_task") again.\n',
            "2 old tool mention(s) rewritten as pos_workflow calls (get_task x2)",
        ),
        (
            ".praxis-os/standards/universal/guide.md",
            '1. `pos_workflow(action="start")`\n2. `create_workflow`\n',
            "1 old tool mention(s) rewritten as pos_workflow calls (start_workflow)",
        ),
    ]
    assert changes[1].summary[1].startswith("left for a human: line 2: create_workflow")
