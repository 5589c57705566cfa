"""Dynamic workflows: phases from a spec's tasks.md, frozen in the session, re-planned on purpose."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pos_engine import (
    DefinitionError,
    LimitError,
    NotFoundError,
    StateError,
    ValidationError,
    WorkflowEngine,
    convert_legacy_session,
    legacy_findings,
)
from pos_engine._definitions import bundled_workflows_dir, load_definition
from pos_engine._dynamic import render_template, workflow_of_session
from pos_engine.testing.drive import FakeClock, complete_all, example_evidence

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "docs/examples/specs/2025-10-22-aos-workflow-tool/tasks.md"
FIXTURE = Path(__file__).resolve().parents[3] / "tests/fixtures/praxis-project"
SPEC = ".praxis-os/specs/2025-10-22-aos-workflow-tool"

SMALL = """\
# Small plan

## Phase 1: Build (Day 1)

**Objective:** Build the thing.

### Task 1.1: Write the parser
**Priority:** High
**Estimated Time:** 1 hour

**Acceptance Criteria:**
- [ ] Parses the sample
- [ ] Rejects bad input

### Task 1.2: Wire it in
**Dependencies:** Task 1.1

**Acceptance Criteria:**
- [ ] Called from main

**Phase 1 Validation Gate:**
- [ ] Tests pass

## Phase 2: Ship

### Task 2.1: Release it

**Acceptance Criteria:**
- [ ] Tagged
"""


def write_spec(project: Path, text: str, folder: str = ".praxis-os/specs/small") -> str:
    path = project / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "tasks.md").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def seeded(project: Path) -> str:
    return write_spec(project, SEED.read_text(encoding="utf-8"), SPEC)


def answers(content: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Evidence an agent builds from phase_content's tasks and gate alone (every item met)."""
    evidence: dict[str, Any] = {
        "tasks": {
            task["task_id"]: {
                "done": True,
                "note": f"Did {task['title']} (see the commit for task {task['task_id']}).",
                **(
                    {"criteria": {c["id"]: {"met": True} for c in task["acceptance_criteria"]}}
                    if task["acceptance_criteria"]
                    else {}
                ),
            }
            for task in content["tasks"]
        }
    }
    gate = content["spec_phase"]["validation_gate"]
    if gate:
        evidence["validation_gate"] = {item["id"]: {"met": True} for item in gate}
    evidence.update(overrides)
    return evidence


def phase_zero(started: dict[str, Any]) -> dict[str, Any]:
    return example_evidence(started)


def at_phase_1(engine: WorkflowEngine, spec: str) -> tuple[str, dict[str, Any]]:
    """Start spec_execution_v1 on ``spec``, pass phase 0; return the session and phase 1."""
    started = engine.start_workflow("spec_execution_v1", spec)
    sid = started["session_id"]
    return sid, engine.complete_phase(sid, 0, phase_zero(started))["phase_content"]


# ----------------------------------------------------------------------- start


@pytest.mark.slow
def test_start_parses_the_spec_and_freezes_its_phases_after_phase_0(
    engine: WorkflowEngine, project: Path, seeded: str, clock: FakeClock
) -> None:
    started = engine.start_workflow("spec_execution_v1", seeded)

    digest = hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert (started["current_phase"], started["total_phases"]) == (0, 6)
    assert started["plan"] == {
        "status": "planned",
        "spec_path": SPEC,
        "tasks_file": "tasks.md",
        "sha256": digest,
        "found_by": "target_file",
        "planned_at": clock.now.isoformat(timespec="microseconds"),
        "phase_count": 5,
        "task_count": 29,
        "phases": [
            {
                "phase": n,
                "spec_phase": n,
                "title": title,
                "task_ids": [f"{n}.{t}" for t in range(1, count + 1)],
                "validation_gate_items": gate,
            }
            for n, title, count, gate in [
                (1, "Foundation", 4, 6),
                (2, "Discovery & Execution Actions", 6, 7),
                (3, "Management & Recovery Actions", 8, 7),
                (4, "Testing & Documentation", 5, 8),
                (5, "Deployment & Validation", 6, 8),
            ]
        ],
        "findings": [],
        "revisions": 0,
    }
    checkpoint = started["phase_content"]["checkpoint"]
    # Phase 0's counts must be the plan's: the example says so, the schema insists.
    assert checkpoint["evidence_example"]["phase_count"] == 5
    assert checkpoint["evidence_example"]["task_count"] == 29
    assert checkpoint["evidence_schema"]["properties"]["task_count"]["const"] == 29


@pytest.mark.slow
def test_options_spec_path_wins_over_target_file_and_a_tasks_md_path_names_its_folder(
    engine: WorkflowEngine, project: Path, seeded: str
) -> None:
    by_option = engine.start_workflow(
        "spec_execution_v1", "src/calculator.py", {"spec_path": f"./{seeded}/"}
    )
    by_file = engine.start_workflow("spec_execution_v1", f"{seeded}/tasks.md")

    assert (by_option["plan"]["found_by"], by_option["plan"]["spec_path"]) == (
        "options.spec_path",
        SPEC,
    )
    assert (by_file["plan"]["found_by"], by_file["plan"]["spec_path"]) == ("target_file", SPEC)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        (
            ".praxis-os/specs/nowhere",
            None,
            NotFoundError,
            "target_file '.praxis-os/specs/nowhere' is not a folder of the project (no spec there)",
        ),
        ("src", None, NotFoundError, "target_file 'src' holds no tasks.md"),
        (
            "src/calculator.py",
            {"spec_path": "../outside"},
            ValidationError,
            "options.spec_path '../outside' leads outside the project root (directory traversal)",
        ),
        (
            ".praxis-os/specs/broken",
            None,
            DefinitionError,
            ".praxis-os/specs/broken/tasks.md line 2: task 1.1 is outside any phase: it comes "
            "before the first phase heading",
        ),
    ],
    ids=["missing-folder", "no-tasks-md", "outside", "malformed"],
)
def test_a_spec_that_cannot_be_planned_is_refused_before_any_session_exists(
    engine: WorkflowEngine, project: Path, case: tuple[str, Any, type[Exception], str]
) -> None:
    target, options, error, message = case
    write_spec(project, "# Plan\n### Task 1.1: Early\n## Phase 1: A\n", ".praxis-os/specs/broken")
    with pytest.raises(error) as caught:
        engine.start_workflow("spec_execution_v1", target, options)
    assert caught.value.message == message  # type: ignore[attr-defined]
    assert engine.state_manager.list_sessions()["count"] == 0


@pytest.mark.slow
def test_an_oversized_or_non_utf8_tasks_md_is_refused(
    engine: WorkflowEngine, project: Path
) -> None:
    big = write_spec(project, "## Phase 1: A\n" + "x" * (1024 * 1024), ".praxis-os/specs/big")
    binary = write_spec(project, "", ".praxis-os/specs/binary")
    (project / binary / "tasks.md").write_bytes(b"## Phase 1: \xff\xfe\n")

    with pytest.raises(LimitError, match=r"tasks.md is over 1024 KiB"):
        engine.start_workflow("spec_execution_v1", big)
    with pytest.raises(ValidationError, match=r"binary/tasks.md is not UTF-8 text"):
        engine.start_workflow("spec_execution_v1", binary)


# ------------------------------------------------------------------ the plan


@pytest.mark.slow
def test_phases_and_tasks_come_from_the_spec_with_ids_criteria_and_the_gate(
    engine: WorkflowEngine, project: Path, seeded: str
) -> None:
    sid, phase1 = at_phase_1(engine, seeded)

    assert (phase1["phase"], phase1["title"], phase1["task_count"]) == (1, "Foundation", 4)
    assert phase1["tasks"][0] == {
        "task_number": 1,
        "name": "1.1",
        "title": "Create Module Structure",
        "estimated_duration": "2 hours",
        "task_id": "1.1",
        "priority": "Critical",
        "dependencies": "",
        "depends_on": [],
        "acceptance_criteria": [
            {"id": "c1", "text": "Module file exists with proper structure"},
            {"id": "c2", "text": "Can import WorkflowEngine and StateManager"},
            {"id": "c3", "text": "Test file runs (even with no tests yet)"},
            {"id": "c4", "text": "No circular import errors"},
        ],
    }
    assert phase1["spec_phase"]["validation_gate"][0] == {
        "id": "g1",
        "text": "All Phase 1 tasks completed",
    }
    assert "# Phase 1: Foundation" in phase1["content"]
    assert "- Task 1.4 (task_number 4): Implement Input Validation Helpers" in phase1["content"]
    assert "{" not in phase1["content"].split("## Checkpoint evidence")[0].replace("{SPEC", "")
    task = engine.get_task(sid, 1, 2)["task_content"]
    assert (task["task_id"], task["title"], task["depends_on"]) == (
        "1.2",
        "Implement Tool Registration Function",
        ["1.1"],
    )
    assert [s["title"] for s in task["execution_steps"]] == [
        "Create `register_workflow_tools()` function",
        "Add MCP server integration (@mcp.tool() decorator)",
        "Implement tool count return",
        "Add integration with existing tool registry",
        "Run the task's validation",
    ]
    assert task["execution_steps"][-1]["command"].startswith(
        "# Start MCP server and check tool count"
    )
    assert "**Traceability:** FR-001 (Single consolidated tool)" in task["description"]
    with pytest.raises(StateError, match="phase 2 is not reached yet"):
        engine.get_task(sid, 2, 1)


@pytest.mark.slow
def test_the_example_evidence_of_every_phase_drives_the_spec_to_completion(
    engine: WorkflowEngine, seeded: str
) -> None:
    sid = engine.start_workflow("spec_execution_v1", seeded)["session_id"]
    results = complete_all(engine, sid)
    assert [r["phase_completed"] for r in results] == [0, 1, 2, 3, 4, 5]
    assert results[-1]["workflow_completed"] is True
    assert all(r.get("open_items", []) == [] for r in results)


@pytest.mark.slow
def test_editing_tasks_md_mid_run_changes_nothing_until_a_deliberate_replan(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = write_spec(project, SMALL)
    started = engine.start_workflow("spec_execution_v1", folder)
    sid = started["session_id"]
    engine.complete_phase(sid, 0, phase_zero(started))
    edited = (
        SMALL.replace("### Task 2.1: Release it", "### Task 2.1: Release it to PyPI")
        + "\n### Task 2.2: Announce it\n\n- [ ] Posted\n"
    )
    (project / folder / "tasks.md").write_text(edited, encoding="utf-8")

    frozen = engine.get_current_phase(sid)["phase_content"]
    assert [t["title"] for t in frozen["tasks"]] == ["Write the parser", "Wire it in"]
    done = engine.complete_phase(sid, 1, answers(frozen))
    assert [t["title"] for t in done["phase_content"]["tasks"]] == ["Release it"]

    replanned = engine.retry_phase(sid, 2, replan=True)

    assert replanned["replan"]["changed"] is True
    assert replanned["replan"]["changes"] == [
        "task 2.1: title 'Release it' -> 'Release it to PyPI'",
        "task 2.2 'Announce it' added",
    ]
    assert replanned["replan"]["plan"]["revisions"] == 1
    assert [t["title"] for t in replanned["phase_content"]["tasks"]] == [
        "Release it to PyPI",
        "Announce it",
    ]
    session = engine.store.load(sid)
    assert session.plan is not None
    assert [r.changes for r in session.plan.revisions] == [replanned["replan"]["changes"]]


def test_a_plan_is_derived_once_and_a_replan_derives_it_anew(project: Path) -> None:
    engine = WorkflowEngine.for_project(project, durable=False)
    folder = write_spec(project, SMALL)
    started = engine.start_workflow("spec_execution_v1", folder)
    sid = started["session_id"]
    engine.complete_phase(sid, 0, phase_zero(started))
    definition = engine.registry.get("spec_execution_v1")

    first = workflow_of_session(definition, engine.store.load(sid))
    again = workflow_of_session(definition, engine.store.load(sid))
    (project / folder / "tasks.md").write_text(
        SMALL.replace("### Task 1.2: Wire it in", "### Task 1.2: Wire it into main"),
        encoding="utf-8",
    )
    engine.retry_phase(sid, 1, replan=True)
    replanned = workflow_of_session(definition, engine.store.load(sid))

    assert again is first  # read from two loads of the session: derived once
    assert [t.spec.title for t in first.phase(1).tasks if t.spec] == [
        "Write the parser",
        "Wire it in",
    ]
    assert replanned is not first
    assert [t.spec.title for t in replanned.phase(1).tasks if t.spec] == [
        "Write the parser",
        "Wire it into main",
    ]
    titles = engine.get_current_phase(sid)["phase_content"]["tasks"]
    assert [t["title"] for t in titles] == ["Write the parser", "Wire it into main"]


@pytest.mark.slow
def test_a_replan_that_changes_a_completed_phase_is_refused_until_a_rollback(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = write_spec(project, SMALL)
    sid, phase1 = at_phase_1(engine, folder)
    engine.complete_phase(sid, 1, answers(phase1))
    (project / folder / "tasks.md").write_text(
        SMALL.replace("- [ ] Called from main", "- [ ] Called from main\n- [ ] Documented")
    )

    with pytest.raises(StateError) as caught:
        engine.retry_phase(sid, 2, replan=True)
    assert caught.value.message == (
        "the spec changed in phase(s) before the current phase 2: task 1.2: acceptance "
        "criteria changed (1 -> 2)"
    )
    assert caught.value.remediation.startswith(
        "A re-plan changes only the current phase and later ones. Roll back to phase 1 first"
    )

    engine.rollback(sid, 1)
    replanned = engine.retry_phase(sid, 1, replan=True)
    assert replanned["replan"]["changes"] == ["task 1.2: acceptance criteria changed (1 -> 2)"]
    assert [c["id"] for c in replanned["phase_content"]["tasks"][1]["acceptance_criteria"]] == [
        "c1",
        "c2",
    ]


@pytest.mark.slow
def test_a_replan_without_changes_writes_nothing_and_a_static_workflow_has_none(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = write_spec(project, SMALL)
    sid = engine.start_workflow("spec_execution_v1", folder)["session_id"]
    version = engine.store.load(sid).version

    same = engine.retry_phase(sid, 0, replan=True)

    assert (same["replan"]["changed"], same["replan"]["changes"]) == (False, [])
    assert engine.store.load(sid).version == version
    static = engine.start_workflow("test_generation_v3", "src/calculator.py")["session_id"]
    with pytest.raises(ValidationError, match="replan applies to dynamic workflows only"):
        engine.retry_phase(static, 1, replan=True)
    with pytest.raises(ValidationError, match="replan must be true or false"):
        engine.retry_phase(sid, 0, replan="yes")


# --------------------------------------------------------------------- gates


@pytest.mark.slow
def test_wrong_evidence_on_a_derived_phase_names_the_missing_tasks_and_criteria(
    engine: WorkflowEngine, seeded: str
) -> None:
    sid, content = at_phase_1(engine, seeded)
    evidence = answers(content)
    del evidence["tasks"]["1.3"]
    del evidence["tasks"]["1.1"]["criteria"]["c2"]
    evidence["validation_gate"]["g5"] = {"met": False}
    evidence["tasks"]["9.9"] = {"done": True, "note": "not a task of this phase"}

    failed = engine.complete_phase(sid, 1, evidence)

    assert failed["checkpoint_passed"] is False
    assert failed["missing_evidence"] == [
        "tasks/1.3",
        "tasks/1.1/criteria/c2",
        "validation_gate/g5/reason",
    ]
    assert failed["error"] == (
        "checkpoint of phase 1 failed: missing evidence 'tasks/1.3' (task 1.3 'Implement Action "
        "Dispatcher'), 'tasks/1.1/criteria/c2' (task 1.1 acceptance criterion c2 'Can import "
        "WorkflowEngine and StateManager'), 'validation_gate/g5/reason' (validation gate item g5 "
        "'All unit tests passing (>= 15 tests)': a reason is required when met is false); 1 "
        "schema error(s), first at /tasks: evidence.tasks (tasks 1.1, 1.2, 1.3, 1.4): Additional "
        "properties are not allowed ('9.9' was unexpected)"
    )
    assert failed["session_status"] == "failed"
    assert (
        engine.state_manager.get_errors(sid)["last_error"]["details"]["missing_evidence"]
        == (failed["missing_evidence"])
    )
    passed = engine.complete_phase(sid, 1, answers(content))
    assert (passed["checkpoint_passed"], passed["open_items"]) == (True, [])


@pytest.mark.slow
def test_unfinished_work_passes_only_with_its_reasons_and_is_listed_as_open_items(
    engine: WorkflowEngine, seeded: str
) -> None:
    sid, content = at_phase_1(engine, seeded)
    evidence = answers(content)
    evidence["tasks"]["1.4"] = {
        "done": False,
        "note": "Deferred: the size limit waits for the store.",
        "criteria": {
            "c1": {"met": True},
            "c2": {"met": True},
            "c3": {"met": False, "reason": "no evidence size check yet"},
            "c4": {"met": True},
        },
    }
    evidence["validation_gate"]["g5"] = {"met": False, "reason": "12 tests, not 15"}

    passed = engine.complete_phase(sid, 1, evidence)

    assert passed["open_items"] == [
        "task 1.4 not done: Deferred: the size limit waits for the store.",
        "task 1.4 criterion c3 not met: no evidence size check yet",
        "validation gate item g5 not met: 12 tests, not 15",
    ]


@pytest.mark.slow
def test_phase_0_counts_must_equal_the_plan_the_agent_was_shown(
    engine: WorkflowEngine, seeded: str
) -> None:
    started = engine.start_workflow("spec_execution_v1", seeded)
    evidence = {**phase_zero(started), "phase_count": 4}

    failed = engine.complete_phase(started["session_id"], 0, evidence)

    assert failed["validation_errors"] == [
        {"pointer": "/phase_count", "keyword": "const", "message": "5 was expected"}
    ]


# -------------------------------------------------------------- no plan yet


def planless_session(engine: WorkflowEngine, project: Path, target: str) -> str:
    """A spec_execution_v1 session at phase 0 without a plan, as a migration leaves it."""
    return planless_session_named(engine, project, target, "0f0e0d0c-0b0a-4908-8706-050403020100")


def planless_session_named(engine: WorkflowEngine, project: Path, target: str, sid: str) -> str:
    raw = {
        "session_id": sid,
        "workflow_type": "spec_execution_v1",
        "target_file": target,
        "current_phase": 0,
        "completed_phases": [],
        "phase_artifacts": {},
        "checkpoints": {},
        "created_at": "2026-01-05T10:00:00",
        "updated_at": "2026-01-05T10:00:00",
        "metadata": {},
    }
    definition = engine.registry.get("spec_execution_v1")
    session, report = convert_legacy_session(raw, definition, project_root=project)
    assert session is not None, report.error
    assert session.plan is None
    return engine.store.create(session).session_id


@pytest.mark.slow
def test_a_session_without_a_plan_is_told_to_send_spec_path_and_plans_when_phase_0_passes(
    engine: WorkflowEngine, project: Path, seeded: str
) -> None:
    sid = planless_session(engine, project, ".praxis-os/specs/gone")
    state = engine.get_workflow_state(sid)
    assert (state["total_phases"], state["plan"]["status"]) == (1, "pending")
    content = engine.get_current_phase(sid)["phase_content"]
    assert content["checkpoint"]["required_evidence"][-1] == "spec_path"
    assert content["checkpoint"]["evidence_example"]["spec_path"] == ".praxis-os/specs/gone"
    evidence = dict(content["checkpoint"]["evidence_example"])

    lost = engine.complete_phase(sid, 0, evidence)
    assert (lost["checkpoint_passed"], lost["recorded"], lost["session_status"]) == (
        False,
        True,
        "failed",
    )
    assert lost["validation_errors"][0]["message"] == (
        "evidence.spec_path '.praxis-os/specs/gone' is not a folder of the project (no spec there)"
    )
    assert lost["plan"]["status"] == "pending"
    without = {k: v for k, v in evidence.items() if k != "spec_path"}
    assert engine.complete_phase(sid, 0, without)["missing_evidence"] == ["spec_path"]

    planned = engine.complete_phase(sid, 0, {**evidence, "spec_path": seeded})

    assert (planned["checkpoint_passed"], planned["next_phase"], planned["total_phases"]) == (
        True,
        1,
        6,
    )
    assert planned["plan"]["found_by"] == "evidence.spec_path"
    assert planned["phase_content"]["title"] == "Foundation"


# ----------------------------------------------------------- other actions


@pytest.mark.slow
def test_every_action_reads_the_frozen_plan(
    engine: WorkflowEngine, project: Path, seeded: str
) -> None:
    sid, phase1 = at_phase_1(engine, seeded)
    engine.complete_phase(sid, 1, answers(phase1))
    shutil.rmtree(project / seeded)  # the spec is gone: the session does not need it

    engine.state_manager.pause_session(sid)
    resumed = engine.state_manager.resume_session(sid)
    rolled = engine.rollback(sid, 1)
    session = engine.state_manager.get_session(sid)["session"]

    assert resumed["phase_content"]["title"] == "Discovery & Execution Actions"
    assert rolled["phase_content"]["title"] == "Foundation"
    assert engine.get_task(sid, 1, 4)["task_content"]["task_id"] == "1.4"
    assert session["plan"]["task_count"] == 29
    assert "phases" in session["plan"] and "body" not in json.dumps(session["plan"])


# ----------------------------------------------------------- definitions


@pytest.mark.slow
def test_the_bundled_spec_execution_v1_is_dynamic_and_listed_as_such(
    engine: WorkflowEngine,
) -> None:
    listed = {w["workflow_type"]: w for w in engine.list_workflows()["workflows"]}
    entry = listed["spec_execution_v1"]
    assert (entry["source"], entry["format"], entry["total_phases"]) == ("bundled", "pos", 1)
    assert entry["dynamic"] == {
        "source": "tasks.md",
        "spec_option": "spec_path",
        "first_derived_phase": 1,
        "how": "start with target_file (or options.spec_path) naming a spec folder; its "
        "tasks.md phases become phases 1, 2, ... of the session, frozen at start",
    }
    assert "findings" not in entry


def copy_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "praxis"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.mark.slow
def test_the_praxis_dynamic_workflow_renders_its_templates_from_the_spec(tmp_path: Path) -> None:
    project = copy_fixture(tmp_path)
    engine = WorkflowEngine.for_project(project, durable=False)
    spec = ".praxis-os/specs/completed/2025-10-20-evidence-validation-system"

    started = engine.start_workflow("spec_execution_v1", "x", {"spec_path": spec})
    sid = started["session_id"]
    checkpoint = started["phase_content"]["checkpoint"]
    assert checkpoint["strict"] is False  # the project's legacy gate, as written
    phase1 = engine.complete_phase(sid, 0, checkpoint["evidence_example"])["phase_content"]

    assert phase1["content"].startswith("# Phase 1: Enable Core Validation\n\n**Phase:** 1  \n")
    assert "**Estimated Duration:** 8 hours" in phase1["content"]
    assert "- Task 1.7 (task_number 7): Implement WorkflowEngine Validation" in phase1["content"]
    assert "[N.1]" not in phase1["content"] and "[PHASE_NUMBER]" not in phase1["content"]
    assert "(The spec gives this phase no validation gate" in phase1["content"]
    task = engine.get_task(sid, 1, 1)["task_content"]
    assert task["description"].startswith(
        "# Task 1.1: Enable Validation in Session Manager\n\n**Phase:** 1 (Enable Core Validation)"
    )
    assert "**Dependencies:** None" in task["description"]
    assert "- [ ] `c1` Line 503 updated" in task["description"]
    assert (
        "`.praxis-os/specs/2025-10-20-evidence-validation-system/tasks.md`" in task["description"]
    )
    assert "validation_gate" not in phase1["checkpoint"]["required_evidence"]


@pytest.mark.slow
def test_a_workflow_without_gates_loads_lists_its_findings_and_passes_any_evidence(
    tmp_path: Path,
) -> None:
    project = copy_fixture(tmp_path)
    engine = WorkflowEngine.for_project(project, durable=False)

    entry = {w["workflow_type"]: w for w in engine.list_workflows()["workflows"]}[
        "standards_creation_v1"
    ]
    assert [(f["code"], f["phase"]) for f in entry["findings"]] == [
        ("no_gate", n) for n in range(6)
    ]
    assert entry["findings"][0] == {
        "level": "WARN",
        "code": "no_gate",
        "phase": 0,
        "message": "workflow 'standards_creation_v1' phase 0: phase 0 has no gate: any evidence "
        "passes (no gate-definition.yaml and no checkpoint.required_evidence in metadata.json)",
    }
    started = engine.start_workflow("standards_creation_v1", "src/standard.md")
    assert started["phase_content"]["checkpoint"]["required_evidence"] == []
    done = engine.complete_phase(started["session_id"], 0, {})
    assert done["checkpoint_passed"] is True
    definition = engine.registry.get("standards_creation_v1")
    assert len(legacy_findings(definition)) == 6


def write_dynamic_definition(base: Path, **dynamic: Any) -> Path:
    folder = base / "mine_v1"
    shutil.copytree(bundled_workflows_dir() / "spec_execution_v1", folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["workflow_type"] = "mine_v1"
    metadata["dynamic"].update(dynamic)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


@pytest.mark.parametrize(
    ("dynamic", "field", "message"),
    [
        (
            {"phase_template": "phases/dynamic/missing.md"},
            "/dynamic/phase_template",
            "/dynamic/phase_template: template 'phases/dynamic/missing.md' is not a file inside "
            "the workflow folder",
        ),
        (
            {"task_template": "../../../../etc/passwd.md"},
            "/dynamic/task_template",
            "metadata.json/dynamic/task_template: '../../../../etc/passwd.md' does not match",
        ),
        (
            {"source": "jira"},
            "/dynamic/source",
            "metadata.json/dynamic/source: 'spec_tasks_md' was expected",
        ),
    ],
    ids=["missing-template", "escaping-template", "unknown-source"],
)
def test_a_broken_dynamic_block_is_refused_naming_the_field(
    tmp_path: Path, dynamic: dict[str, Any], field: str, message: str
) -> None:
    folder = write_dynamic_definition(tmp_path, **dynamic)
    with pytest.raises(DefinitionError) as caught:
        load_definition(folder, "project")
    assert caught.value.details["field"] == field
    assert caught.value.message.startswith(message)


def test_a_template_fills_known_placeholders_and_leaves_the_rest() -> None:
    legacy = (
        "# Phase [PHASE_NUMBER]: [PHASE_NAME]\n- Task [N.1]: [Brief description]\n"
        "- Task [N.2]: [Brief description]\n[... list all tasks]\n"
        'Deps: [DEPENDENCIES or "None"] in {SPEC_DIR}; keep [number] and [UNKNOWN_THING]\n'
    )
    values = {
        "phase_number": "1",
        "phase_name": "Core",
        "task_list": "- Task 1.1: A",
        "dependencies": "None",
        "spec_dir": "2026-x",
    }
    assert render_template(legacy, values, "legacy") == (
        "# Phase 1: Core\n- Task 1.1: A\nDeps: None in 2026-x; keep [number] and [UNKNOWN_THING]\n"
    )
    assert render_template('{phase_name} {"met": true} {unknown}', values, "pos") == (
        'Core {"met": true} {unknown}'
    )


@pytest.mark.slow
def test_the_checkpoint_of_a_derived_phase_passes_its_own_example(
    engine: WorkflowEngine, seeded: str
) -> None:
    _, content = at_phase_1(engine, seeded)
    example = content["checkpoint"]["evidence_example"]
    assert example == answers(
        content,
        tasks={
            tid: {**entry, "note": f"What was done for task {tid} and where."}
            for tid, entry in answers(content)["tasks"].items()
        },
    )


@pytest.mark.slow
def test_a_replan_of_a_session_without_a_plan_plans_it_from_its_target_or_says_what_was_tried(
    engine: WorkflowEngine, project: Path
) -> None:
    found = planless_session(engine, project, ".praxis-os/specs/later")
    folder = write_spec(project, SMALL, ".praxis-os/specs/later")  # the spec turns up
    lost = planless_session_named(
        engine, project, ".praxis-os/specs/gone", "0f0e0d0c-0b0a-4908-8706-0504030201ff"
    )

    planned = engine.retry_phase(found, 0, replan=True)

    assert planned["replan"]["changes"] == [f"planned from target_file {folder!r}"]
    assert (planned["total_phases"], planned["replan"]["plan"]["task_count"]) == (3, 3)
    with pytest.raises(NotFoundError) as caught:
        engine.retry_phase(lost, 0, replan=True)
    assert caught.value.message == (
        "this session has no plan yet and no spec was found (target_file "
        "'.praxis-os/specs/gone' is not a folder of the project (no spec there))"
    )


@pytest.mark.slow
def test_plan_changes_name_every_kind_of_edit_in_order(project: Path) -> None:
    from pos_engine._spec_plan import plan_changes  # noqa: PLC0415 - the function under test

    edited = (
        SMALL.replace("## Phase 1: Build (Day 1)", "## Phase 1: Build it (Day 1)")
        .replace("**Objective:** Build the thing.", "**Objective:** Build the better thing.")
        .replace("- [ ] Tests pass", "- [ ] Tests pass\n- [ ] Linted")
        .replace("**Priority:** High", "**Priority:** Low")
        .replace("### Task 2.1: Release it\n\n**Acceptance Criteria:**\n- [ ] Tagged\n", "")
    ) + "### Task 2.1: Publish\n"
    engine = WorkflowEngine.for_project(project, durable=False)
    definition = engine.registry.get("spec_execution_v1")
    old = build(project, definition, SMALL, "old")
    new = build(project, definition, edited, "new")

    assert plan_changes(old, new) == [
        (1, "phase 1: title 'Build (Day 1)' -> 'Build it (Day 1)'"),
        (1, "phase 1: validation gate changed (1 -> 2 items)"),
        (1, "phase 1: objective changed"),
        (1, "task 1.1: its text changed"),
        (2, "task 2.1: title 'Release it' -> 'Publish'"),
        (2, "task 2.1: acceptance criteria changed (1 -> 0)"),
    ]
    assert plan_changes(
        new, build(project, definition, SMALL.split("## Phase 2", maxsplit=1)[0], "one")
    ) == [
        (1, "phase 1: title 'Build it (Day 1)' -> 'Build (Day 1)'"),
        (1, "phase 1: validation gate changed (2 -> 1 items)"),
        (1, "phase 1: objective changed"),
        (1, "task 1.1: its text changed"),
        (2, "phase 2 'Ship' removed"),
    ]


def build(project: Path, definition: Any, text: str, name: str) -> Any:
    from pos_engine._spec_plan import build_plan  # noqa: PLC0415 - the function under test

    folder = write_spec(project, text, f".praxis-os/specs/{name}")
    return build_plan(
        project, definition, folder, found_by="test", stamp="2026-01-01T00:00:00+00:00"
    )


@pytest.mark.slow
def test_a_tasks_md_that_leads_outside_the_project_is_refused(
    engine: WorkflowEngine, project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(SMALL)
    folder = project / ".praxis-os/specs/linked"
    folder.mkdir(parents=True)
    (folder / "tasks.md").symlink_to(outside)

    with pytest.raises(NotFoundError, match=r"linked/tasks.md is not a file inside the project"):
        engine.start_workflow("spec_execution_v1", ".praxis-os/specs/linked")
