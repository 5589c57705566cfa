"""Dynamic workflows through the real server: stdio end to end, and the archived tools.

An agent that reads only the tool's answers runs spec_execution_v1 on the seed plan from
start to completion; migrated praxis sessions answer at their phase; the archived tools
serve a dynamic session from its frozen plan.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pos_engine import (
    FileSessionStore,
    WorkflowRegistry,
    convert_legacy_session_file,
    find_legacy_session_files,
)
from pos_tool import REGISTRY_FILE, build_server
from pos_tool.testing import call_pos_workflow, server_parameters, tool_response

# slow: the server as a stdio subprocess, driven through whole dynamic workflows
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PACKAGES = Path(__file__).resolve().parents[2]
SEED = PACKAGES.parent / "docs/examples/specs/2025-10-22-aos-workflow-tool/tasks.md"
PRAXIS = PACKAGES.parent / "tests/fixtures/praxis-project"
SPEC = ".praxis-os/specs/2025-10-22-aos-workflow-tool"


def seed_project(tmp_path: Path) -> Path:
    """A project holding the seed plan as the spec folder SPEC."""
    project = tmp_path / "project"
    (project / SPEC).mkdir(parents=True)
    shutil.copy(SEED, project / SPEC / "tasks.md")
    return project


def evidence_from(content: dict[str, Any]) -> dict[str, Any]:
    """What an agent sends after doing a phase: every listed task, criterion and gate item."""
    evidence: dict[str, Any] = {"tasks": {}}
    for task in content["tasks"]:
        entry: dict[str, Any] = {
            "done": True,
            "note": f"Implemented {task['title']}; tests added and passing.",
        }
        if task["acceptance_criteria"]:
            entry["criteria"] = {c["id"]: {"met": True} for c in task["acceptance_criteria"]}
        evidence["tasks"][task["task_id"]] = entry
    gate = content["spec_phase"]["validation_gate"]
    if gate:
        evidence["validation_gate"] = {item["id"]: {"met": True} for item in gate}
    return evidence


async def test_an_agent_runs_the_seed_plan_from_start_to_completion_on_the_tools_answers(
    tmp_path: Path,
) -> None:
    project = seed_project(tmp_path)

    async with Client(server_parameters(project, durable=False)) as client:

        async def call(action: str, **arguments: Any) -> dict[str, Any]:
            return await call_pos_workflow(client, action, **arguments)

        started = await call("start", workflow_type="spec_execution_v1", target_file=SPEC)
        assert started["status"] == "success", started
        sid = started["session_id"]
        assert (started["current_phase"], started["total_phases"]) == (0, 6)
        assert started["phase_content"]["title"] == "Spec Analysis and Planning"
        for task in started["phase_content"]["tasks"]:
            got = await call("get_task", session_id=sid, phase=0, task_number=task["task_number"])
            assert got["task_content"]["execution_steps"], got
        # Phase 0: the agent fills the checkpoint from what the plan says.
        plan = started["plan"]
        phase0 = dict(started["phase_content"]["checkpoint"]["evidence_example"])
        phase0.update(
            spec_path=plan["spec_path"],
            spec_files=["tasks.md"],
            phase_count=plan["phase_count"],
            task_count=plan["task_count"],
            execution_notes="Start with task 1.1; every task depends on the one before it.",
        )
        current = await call("complete_phase", session_id=sid, phase=0, evidence=phase0)
        assert current["checkpoint_passed"] is True, current

        seen: list[tuple[str, list[str]]] = []
        while True:
            content = current["phase_content"]
            phase = content["phase"]
            seen.append((content["title"], [t["task_id"] for t in content["tasks"]]))
            for task in content["tasks"]:
                got = await call(
                    "get_task", session_id=sid, phase=phase, task_number=task["task_number"]
                )
                assert got["task_content"]["task_id"] == task["task_id"]
                assert got["task_content"]["acceptance_criteria"] == task["acceptance_criteria"]
            evidence = evidence_from(content)
            if phase == 1:
                wrong = evidence_from(content)
                del wrong["tasks"]["1.2"]
                del wrong["tasks"]["1.4"]["criteria"]["c3"]
                rejected = await call("complete_phase", session_id=sid, phase=1, evidence=wrong)
                assert rejected["status"] == "error"
                assert rejected["missing_evidence"] == ["tasks/1.2", "tasks/1.4/criteria/c3"]
                assert "task 1.2 'Implement Tool Registration Function'" in rejected["error"]
                assert "'Evidence size validation enforces 10MB limit'" in rejected["error"]
            current = await call("complete_phase", session_id=sid, phase=phase, evidence=evidence)
            assert current["checkpoint_passed"] is True, current
            if current["workflow_completed"]:
                break

        state = await call("get_state", session_id=sid)

    assert seen == [
        ("Foundation", ["1.1", "1.2", "1.3", "1.4"]),
        ("Discovery & Execution Actions", ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]),
        (
            "Management & Recovery Actions",
            ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8"],
        ),
        ("Testing & Documentation", ["4.1", "4.2", "4.3", "4.4", "4.5"]),
        ("Deployment & Validation", ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6"]),
    ]
    assert (state["session_status"], state["completed_phases"]) == ("completed", [0, 1, 2, 3, 4, 5])


async def test_migrated_praxis_sessions_answer_at_their_phase_through_the_server(
    tmp_path: Path,
) -> None:
    project = tmp_path / "praxis"
    shutil.copytree(PRAXIS, project)
    registry = WorkflowRegistry(project)
    store = FileSessionStore.from_project(project, durable=False)
    phases = {}
    for path in find_legacy_session_files(project):
        session, report = convert_legacy_session_file(path, registry)
        assert session is not None, report.error
        store.create(session)
        phases[session.session_id] = session.current_phase

    async with Client(server_parameters(project, durable=False)) as client:
        answers = {}
        for sid, phase in phases.items():
            state = await call_pos_workflow(client, "get_state", session_id=sid)
            got = await call_pos_workflow(client, "get_phase", session_id=sid)
            first = got["phase_content"]["tasks"][0]["task_number"]
            task = await call_pos_workflow(
                client, "get_task", session_id=sid, phase=phase, task_number=first
            )
            answers[sid] = (
                state["current_phase"],
                got["phase_content"]["phase"],
                task["phase"],
                state.get("plan", {}).get("status"),
            )
        listed = await call_pos_workflow(client, "list_workflows")

    assert answers == {
        "1ec2c575-729c-44a2-a8b8-31409068cb68": (0, 0, 0, None),
        "21d44e1a-e1f7-4b0b-9c6a-c95257d7cadd": (3, 3, 3, "planned"),
        "61e24eb6-7c13-4e7c-b0cc-5a6c9347b6e1": (0, 0, 0, "pending"),
        "6bc23573-0698-4044-8063-5bf2aa32d101": (2, 2, 2, None),
    }
    by_type = {w["workflow_type"]: w for w in listed["workflows"]}
    assert "invalid_workflows" not in listed
    assert by_type["spec_execution_v1"]["source"] == "project"
    assert by_type["spec_execution_v1"]["dynamic"]["spec_option"] == "spec_path"
    assert {f["code"] for f in by_type["standards_creation_v1"]["findings"]} == {"no_gate"}


async def test_the_archived_tools_run_a_dynamic_session_from_its_frozen_plan(
    tmp_path: Path,
) -> None:
    project = seed_project(tmp_path)
    registry = project / REGISTRY_FILE
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text(json.dumps({"version": 1, "groups": ["workflow_legacy"]}))

    async with Client(build_server(project, durable=False)) as client:

        async def legacy(tool: str, **arguments: Any) -> dict[str, Any]:
            return tool_response(await client.call_tool(tool, arguments))

        started = await legacy(
            "start_workflow", workflow_type="spec_execution_v1", target_file=SPEC
        )
        sid = started["session_id"]
        phase0 = started["phase_content"]["checkpoint"]["evidence_example"]
        (project / SPEC / "tasks.md").write_text("## Phase 1: Rewritten\n### Task 1.1: Other\n")
        done = await legacy("complete_phase", session_id=sid, phase=0, evidence=phase0)
        current = await legacy("get_current_phase", session_id=sid)
        task = await legacy("get_task", session_id=sid, phase=1, task_number=3)
        wrong = await legacy(
            "complete_phase", session_id=sid, phase=1, evidence={"tasks": {"1.1": {}}}
        )
        state = await legacy("get_workflow_state", session_id=sid)
        checked = await legacy("validate_workflow", workflow_type="spec_execution_v1")

    assert (done["checkpoint_passed"], done["total_phases"]) == (True, 6)
    assert [t["task_id"] for t in current["phase_content"]["tasks"]] == ["1.1", "1.2", "1.3", "1.4"]
    assert (task["action"], task["task_content"]["title"]) == (
        "get_task",
        "Implement Action Dispatcher",
    )
    assert wrong["missing_evidence"] == [
        "validation_gate",
        "tasks/1.2",
        "tasks/1.3",
        "tasks/1.4",
        "tasks/1.1/done",
        "tasks/1.1/note",
        "tasks/1.1/criteria",
    ]
    assert (state["plan"]["task_count"], state["plan"]["revisions"]) == (29, 0)
    assert (checked["valid"], checked["counts"], checked["warnings"]) == (
        True,
        {"phases": 1, "tasks": 3},
        [],
    )
