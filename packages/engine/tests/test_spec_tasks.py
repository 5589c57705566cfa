"""The tasks.md parser: real specs parse exactly, every task form, malformed plans named by line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pos_engine import DefinitionError, PlanPhase, PlanTask, parse_spec_tasks

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "docs/examples/specs/2025-10-22-aos-workflow-tool/tasks.md"
FIXTURE = (
    REPO
    / "tests/fixtures/praxis-project/.praxis-os/specs/completed/2025-10-20-evidence-validation-system/tasks.md"
)


def parse(text: str) -> list[PlanPhase]:
    return list(parse_spec_tasks(textwrap.dedent(text)).phases)


def error(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        parse_spec_tasks(textwrap.dedent(text))
    return caught.value


# ------------------------------------------------------------------ the real specs


def test_the_seed_plan_parses_to_its_five_phases_and_29_tasks_with_their_criteria() -> None:
    spec = parse_spec_tasks(SEED.read_text(encoding="utf-8"))

    assert spec.title == "Implementation Tasks: pos_workflow Tool"
    assert [(p.number, p.name, p.timeframe) for p in spec.phases] == [
        (1, "Foundation", "Days 1-2"),
        (2, "Discovery & Execution Actions", "Days 3-5"),
        (3, "Management & Recovery Actions", "Days 6-8"),
        (4, "Testing & Documentation", "Days 9-11"),
        (5, "Deployment & Validation", "Days 12-14"),
    ]
    assert [[t.id for t in p.tasks] for p in spec.phases] == [
        ["1.1", "1.2", "1.3", "1.4"],
        ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"],
        ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8"],
        ["4.1", "4.2", "4.3", "4.4", "4.5"],
        ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6"],
    ]
    assert spec.task_count == 29
    # Criteria per task, counted by hand from the file's "- [ ]" lines under each task.
    assert {t.id: len(t.acceptance_criteria) for p in spec.phases for t in p.tasks} == {
        "1.1": 4, "1.2": 4, "1.3": 5, "1.4": 4,
        "2.1": 5, "2.2": 6, "2.3": 4, "2.4": 4, "2.5": 6, "2.6": 4,
        "3.1": 4, "3.2": 4, "3.3": 4, "3.4": 4, "3.5": 4, "3.6": 4, "3.7": 4, "3.8": 4,
        "4.1": 5, "4.2": 5, "4.3": 4, "4.4": 5, "4.5": 4,
        "5.1": 4, "5.2": 5, "5.3": 5, "5.4": 4, "5.5": 5, "5.6": 5,
    }  # fmt: skip
    assert [len(p.validation_gate) for p in spec.phases] == [6, 7, 7, 8, 8]
    assert spec.findings == ()


def test_a_seed_phase_and_task_carry_every_field_the_spec_gives() -> None:
    spec = parse_spec_tasks(SEED.read_text(encoding="utf-8"))
    phase = spec.phases[0]

    assert phase.model_dump(exclude={"tasks"}) == {
        "number": 1,
        "title": "Foundation (Days 1-2)",
        "name": "Foundation",
        "line": 22,
        "timeframe": "Days 1-2",
        "objective": "Establish core infrastructure for consolidated tool.",
        "estimate": "Days 1-2",
        "dependencies": "None (starting from scratch)",
        "deliverables": [],
        "validation_gate": [
            "All Phase 1 tasks completed",
            "Tool registration working (1 tool registered)",
            "Action dispatcher validates and routes correctly",
            "Input validation prevents security issues",
            "All unit tests passing (>= 15 tests)",
            "No linter errors",
        ],
    }
    task = phase.tasks[1]
    assert task.model_dump(exclude={"body"}) == {
        "id": "1.2",
        "number": 2,
        "title": "Implement Tool Registration Function",
        "line": 55,
        "priority": "Critical",
        "estimate": "3 hours",
        "dependencies": "Task 1.1",
        "depends_on": ["1.1"],
        "description": "",
        "steps": [
            "Create `register_workflow_tools()` function",
            "Add MCP server integration (@mcp.tool() decorator)",
            "Implement tool count return",
            "Add integration with existing tool registry",
        ],
        "acceptance_criteria": [
            "Function registers exactly 1 tool",
            "Tool appears in MCP tools/list",
            "Tool metadata includes all 14 actions",
            "Registration integrates with existing server startup",
        ],
        "validation_command": "# Start MCP server and check tool count\npython -m mcp_server\n"
        "# Verify tools/list includes pos_workflow",
        "checked": None,
    }
    assert task.body.startswith("**Priority:** Critical  \n**Estimated Time:** 3 hours")
    assert task.body.endswith("**Traceability:** FR-001 (Single consolidated tool)")
    # The final gate stops at the next label: the sign-off list is not part of it.
    assert spec.phases[4].validation_gate[-1] == "No critical issues in production"


def test_the_fixture_spec_parses_exactly_and_its_fenced_headings_are_not_structure() -> None:
    spec = parse_spec_tasks(FIXTURE.read_text(encoding="utf-8"))

    # Counted by hand: "#### Task N.M" headings under "## Phase N" (28), none inside fences.
    assert [(p.number, p.name, p.estimate, len(p.tasks)) for p in spec.phases] == [
        (1, "Enable Core Validation", "8 hours", 7),
        (2, "Migration Script & Gate Generation", "6 hours", 5),
        (3, "workflow_creation_v1 Enhancement", "4 hours", 4),
        (4, "Testing & Validation", "10 hours", 6),
        (5, "Deployment & Monitoring", "6 hours", 6),
    ]
    assert {t.id: len(t.acceptance_criteria) for p in spec.phases for t in p.tasks} == {
        "1.1": 3, "1.2": 3, "1.3": 3, "1.4": 3, "1.5": 3, "1.6": 3, "1.7": 3,
        "2.1": 3, "2.2": 3, "2.3": 3, "2.4": 3, "2.5": 4,
        "3.1": 3, "3.2": 2, "3.3": 3, "3.4": 3,
        "4.1": 3, "4.2": 3, "4.3": 3, "4.4": 3, "4.5": 3, "4.6": 2,
        "5.1": 4, "5.2": 4, "5.3": 4, "5.4": 3, "5.5": 3, "5.6": 3,
    }  # fmt: skip
    first = spec.phases[0].tasks[0]
    assert first.model_dump(exclude={"body"}) == {
        "id": "1.1",
        "number": 1,
        "title": "Enable Validation in Session Manager",
        "line": 41,
        "priority": "",
        "estimate": "30 minutes",
        "dependencies": "",
        "depends_on": [],
        "description": "Replace hardcoded `checkpoint_passed = True` with actual validation call.",
        "steps": [],
        "acceptance_criteria": [
            "Line 503 updated",
            "Result dictionary properly returned",
            "Existing workflows still work (regression test)",
        ],
        "validation_command": None,
        "checked": None,
    }
    assert "# File: mcp_server/core/session.py" in first.body
    # Task 3.1 holds a ```markdown block with a nested ```bash block: 3.2 still starts after it.
    phase3 = spec.phases[2]
    assert [(t.id, t.line) for t in phase3.tasks] == [
        ("3.1", 469),
        ("3.2", 503),
        ("3.3", 534),
        ("3.4", 554),
    ]
    assert "# Task 4: Generate Gate Definitions" in phase3.tasks[0].body
    assert spec.phases[0].deliverables == [
        "Session.py fix (1-line change)",
        "CheckpointLoader with three-tier fallback",
        "Validator executor with safe globals",
        "Unit tests for core validation logic",
    ]
    assert spec.findings == tuple(
        f"phase {p.number} ({p.name!r}, line {p.line}) has no Validation Gate checklist: its "
        "checkpoint asks for the tasks and their acceptance criteria only"
        for p in spec.phases
    )


# -------------------------------------------------------------------- task forms


def test_list_item_tasks_take_their_fields_from_the_indented_lines_under_them() -> None:
    [phase] = parse(
        """\
        # Plan

        ## Overview

        ### Phase 1: Foundation - Create New Modules (Week 1, Days 1-3)

        **Goal:** Establish new modular structure

        **Tasks:**

        - [x] **Task 1.1**: Create `models/` module structure
          - **Estimated Time**: 4 hours
          - **Dependencies**: None
          - **Acceptance Criteria**:
            - [x] `models/__init__.py` with clean exports
            - [ ] All models importable

        - [ ] **Task 1.2**: Create `config/` module
          - **Estimated Time**: 3 hours
          - **Dependencies**: Task 1.1 (needs models/config.py)
          - **Acceptance Criteria**:
            - [ ] `config/loader.py` with ConfigLoader class

        **Validation Gate:**
        - [ ] All unit tests pass
        - [x] Imports work correctly
        """
    )
    assert (phase.name, phase.timeframe, phase.objective) == (
        "Foundation - Create New Modules",
        "Week 1, Days 1-3",
        "Establish new modular structure",
    )
    assert [
        (t.id, t.title, t.estimate, t.depends_on, t.acceptance_criteria, t.checked)
        for t in phase.tasks
    ] == [
        (
            "1.1",
            "Create `models/` module structure",
            "4 hours",
            [],
            ["`models/__init__.py` with clean exports", "All models importable"],
            True,
        ),
        ("1.2", "Create `config/` module", "3 hours", ["1.1"], ["`config/loader.py` with ConfigLoader class"], False),
    ]  # fmt: skip
    assert phase.validation_gate == ["All unit tests pass", "Imports work correctly"]


def test_the_task_form_spec_creation_v1_writes_parses_with_plain_labels_and_bullet_criteria() -> (
    None
):
    [phase] = parse(
        """\
        # Invoice export
        Status: Draft | Date: 2026-01-15

        ## Phase 1: Export core

        **Goal:** a CSV of one month's invoices.

        - [ ] **Task 1.1: Add the export model**
          - Requirements: FR-001
          - Depends on: none
          - Estimate: 2h
          - Acceptance criteria:
            - `InvoiceRow` holds number, date and total
            - totals are decimals, never floats
          - Validation: `python -m pytest tests/test_export.py -q`

        **Exit criteria:**
        - the export runs on a sample month
        """
    )
    [task] = phase.tasks
    assert (task.id, task.title, task.estimate, task.dependencies, task.depends_on) == (
        "1.1",
        "Add the export model",
        "2h",
        "none",
        [],
    )
    assert task.acceptance_criteria == [
        "`InvoiceRow` holds number, date and total",
        "totals are decimals, never floats",
    ]
    assert task.validation_command == "python -m pytest tests/test_export.py -q"
    assert phase.validation_gate == ["the export runs on a sample month"]


@pytest.mark.parametrize(
    "gate",
    [
        "### Phase 1 Validation Gate\n\n🛑 **GATE:** done\n\n- [ ] Linted ✅/❌\n- [ ] Tested ✅/❌\n",
        "## 🛑 VALIDATION GATE: Phase 1 Checkpoint\n\n- [ ] Linted ✅/❌\n- [ ] Tested ✅/❌\n",
        "**Phase 1 Validation Gate**:\n- [ ] Linted\n- [ ] Tested\n\n**Evidence:** none\n",
        "**Validation Gate:**\n- Linted\n- Tested\n\n---\n",
    ],
    ids=["heading-in-phase", "heading-at-phase-level", "bold-label", "plain-bullets"],
)
def test_every_validation_gate_form_gives_the_phase_its_checklist(gate: str) -> None:
    text = "## Phase 1: One\n\n### Task 1.1: Do it\n\n- [ ] Done\n\n" + gate
    phases = list(parse_spec_tasks(text + "\n## Phase 2: Two\n\n### Task 2.1: Next\n").phases)
    assert [p.validation_gate for p in phases] == [["Linted", "Tested"], []]
    assert [t.acceptance_criteria for t in phases[0].tasks] == [["Done"]]


def test_phases_take_the_shallowest_level_of_phase_headings_and_deeper_ones_are_ordinary() -> None:
    phases = parse(
        """\
        # Tasks
        ## Overview
        ### Phase 1: Core
        - [ ] **Task 1.1**: Build
        #### Phase 9: Not a phase, a deeper heading inside phase 1
        ### Phase 2: More
        - **Task 2.1: Extend**
        ## Dependencies
        - **Task 1.1** (Build) is needed by **Task 2.1**
        - **Task 2.1**: mentioned again after the phases
        """
    )
    assert [(p.number, [t.id for t in p.tasks]) for p in phases] == [(1, ["1.1"]), (2, ["2.1"])]


def test_dependencies_expand_ranges_and_unknown_ones_are_reported_as_findings() -> None:
    spec = parse_spec_tasks(
        textwrap.dedent(
            """\
            ## Phase 1: A
            ### Task 1.1: One
            **Dependencies:** None (parallel with 1.2-1.3)
            ### Task 1.2: Two
            ### Task 1.3: Three
            **Dependencies:** Tasks 1.1-1.2, 4.4
            ### Task 1.5: Five
            """
        )
    )
    assert [t.depends_on for t in spec.phases[0].tasks] == [[], [], ["1.1", "1.2", "4.4"], []]
    assert list(spec.findings) == [
        "phase 1: task numbers 1.1, 1.2, 1.3, 1.5 are not 1, 2, 3, ... in order; get_task "
        "serves them by these numbers",
        "phase 1 ('A', line 1) has no Validation Gate checklist: its checkpoint asks for the "
        "tasks and their acceptance criteria only",
        "task 1.1 ('One', line 2) has no acceptance criteria: its evidence is done and a note",
        "task 1.2 ('Two', line 4) has no acceptance criteria: its evidence is done and a note",
        "task 1.3 ('Three', line 5) has no acceptance criteria: its evidence is done and a note",
        "task 1.3 depends on 4.4, which the spec does not define",
        "task 1.5 ('Five', line 7) has no acceptance criteria: its evidence is done and a note",
    ]


def test_windows_line_endings_a_bom_and_closing_hashes_are_tolerated() -> None:
    text = "\ufeff## Phase 1: One ##\r\n\r\n### Task 1.1: Do it ###\r\n- [ ] Done\r\n"
    [phase] = parse_spec_tasks(text).phases
    assert (phase.title, phase.tasks[0].title, phase.tasks[0].acceptance_criteria) == (
        "One",
        "Do it",
        ["Done"],
    )


# -------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "# Plan\n\nJust prose.\n```\n## Phase 1: In a fence\n```\n",
            0,
            "tasks.md has no phase: expected '## Phase 1: <name>' headings (outside code "
            "blocks) with '### Task 1.1: <title>' tasks under them",
        ),
        (
            "## Phase 1: A\n### Task 1.1: x\n## Phase 1: B\n### Task 1.2: y\n",
            3,
            "tasks.md line 3: phase 1 appears twice (first at line 1)",
        ),
        (
            "## Phase 1: A\n### Task 1.1: x\n## Phase 3: C\n### Task 3.1: y\n",
            3,
            "tasks.md line 3: phase 3 follows phase 1; phases must be numbered 1, 2, 3, ... in "
            "order (expected phase 2)",
        ),
        (
            "## Phase 0: Zero\n### Task 0.1: x\n",
            1,
            "tasks.md line 1: phase 0 is the first phase; phases must be numbered 1, 2, 3, ... "
            "in order (expected phase 1)",
        ),
        (
            "# Plan\n### Task 1.1: Early\n## Phase 1: A\n",
            2,
            "tasks.md line 2: task 1.1 is outside any phase: it comes before the first phase "
            "heading",
        ),
        (
            "## Phase 1: A\n### Task 1.1: x\n## Appendix\n### Task 1.2: Stray\n",
            4,
            "tasks.md line 4: task 1.2 is outside any phase: it follows '## Appendix' (line 3), "
            "which ends the phase before it",
        ),
        (
            "## Phase 1: A\n### Task 1.1: x\n## Phase 2: B\n- [ ] **Task 1.2**: Misplaced\n",
            4,
            "tasks.md line 4: task 1.2 is under phase 2 (line 3); a task id starts with its "
            "phase number (2.M)",
        ),
        (
            "## Phase 1: A\n### Task 1.1: x\n### Task 1.1: again\n",
            3,
            "tasks.md line 3: task 1.1 appears twice (first at line 2)",
        ),
        (
            "## Phase 1: A\n### Task 1.1: x\n## Phase 2: Empty\n\nNothing here.\n",
            3,
            "tasks.md line 3: phase 2 ('Empty') has no tasks; give it 'Task 2.1' and the rest",
        ),
    ],
    ids=[
        "no-phase",
        "duplicate-phase",
        "phase-gap",
        "phase-zero",
        "task-before-phases",
        "task-after-phases",
        "task-under-wrong-phase",
        "duplicate-task",
        "phase-without-tasks",
    ],
)
def test_a_malformed_plan_is_refused_naming_the_line(text: str, line: int, message: str) -> None:
    caught = error(text)
    assert (caught.message, caught.details) == (message, {"field": "tasks.md", "line": line})
    assert caught.error_type == "ValidationError"


# ------------------------------------------------------------------ hostile input

LONG = 60 * 1024


@pytest.mark.parametrize(
    "line",
    [
        " " * LONG + "x",
        "#" * 6 + " " + " " * LONG + "#",
        "- [ ] **" + "*" * LONG,
        "**" + "a" * LONG + ":**",
        "- " * (LONG // 2) + "[x]",
        "Task 1." * (LONG // 7),
        "`" * LONG,
        "[" + "PHASE_NAME " * (LONG // 11),
        "- **Task 1.2" + "*" * LONG,
    ],
    ids=["spaces", "hashes", "stars", "label", "dashes", "task-ids", "fence", "bracket", "bold"],
)
def test_a_60kb_line_of_any_shape_parses_without_stalling(line: str) -> None:
    spec = parse_spec_tasks(f"## Phase 1: A\n### Task 1.1: x\n- [ ] ok\n{line}\n")
    assert [t.id for t in spec.phases[0].tasks] == ["1.1"]


def test_a_60kb_phase_heading_is_read_as_one_and_refused_as_a_repeat() -> None:
    caught = error(f"## Phase 1: A\n### Task 1.1: x\n## Phase 1:{' ' * LONG}x\n")
    assert caught.message == "tasks.md line 3: phase 1 appears twice (first at line 1)"


# ------------------------------------------------------------------- properties

FORMS = {
    "heading": "### Task {id}: {title}\n",
    "deep": "#### Task {id}: {title}\n",
    "item": "- [ ] **Task {id}**: {title}\n",
    "bold": "- **Task {id}: {title}**\n",
}


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(
        st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=5),
        min_size=1,
        max_size=6,
    ),
    form=st.sampled_from(sorted(FORMS)),
    fenced=st.booleans(),
)
def test_any_well_formed_plan_parses_to_exactly_its_phases_tasks_and_criteria(
    shape: list[list[int]], form: str, fenced: bool
) -> None:
    lines = ["# Generated plan", ""]
    for p, tasks in enumerate(shape, start=1):
        lines += [f"## Phase {p}: Phase number {p}", "", f"**Objective:** goal {p}", ""]
        for t, criteria in enumerate(tasks, start=1):
            lines.append(FORMS[form].format(id=f"{p}.{t}", title=f"Task title {p}.{t}").rstrip())
            indent = "  " if form in {"item", "bold"} else ""
            lines.append(
                f"{indent}- **Acceptance Criteria**:" if indent else "**Acceptance Criteria:**"
            )
            lines += [
                f"{indent}  - [ ] criterion {c}" if indent else f"- [ ] criterion {c}"
                for c in range(criteria)
            ]
            if fenced:
                lines += [f"{indent}```python", f"{indent}## Phase 99: not a phase", f"{indent}```"]
            lines.append("")
        lines += ["**Validation Gate:**", "- [ ] gate item", ""]
    spec = parse_spec_tasks("\n".join(lines))
    assert [[len(t.acceptance_criteria) for t in p.tasks] for p in spec.phases] == shape
    assert all(t.title == f"Task title {t.id}" for p in spec.phases for t in p.tasks)
    assert all(p.validation_gate == ["gate item"] for p in spec.phases)
    assert all(isinstance(t, PlanTask) for p in spec.phases for t in p.tasks)
