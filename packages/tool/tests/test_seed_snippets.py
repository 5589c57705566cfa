"""The validation snippets of Phases 1-3 of the seed plan, through a real MCP client.

Each test is one snippet as written, with ``pos_workflow(...)`` replaced by a
call through the in-process MCP client and paths made relative to the project.
The snippets use ``test_gen_v3``, an alias the bundled test_generation_v3 declares.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pos_tool
import pytest
from mcp import Client
from pos_tool import VALID_ACTIONS
from pos_tool.testing import example_evidence

pytestmark = pytest.mark.anyio


@pytest.fixture
def pos_workflow(call: Any) -> Any:
    """The seed's spelling: ``await pos_workflow(action=..., **params)``."""

    async def run(**arguments: Any) -> dict[str, Any]:
        action = arguments.pop("action", None)
        response: dict[str, Any] = await call(action, **arguments)
        return response

    return run


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the project root, as the seed's relative state-file paths assume."""
    monkeypatch.chdir(project)
    return project


# ---------------------------------------------------------------- Phase 1


def test_task_1_1_the_module_imports_without_errors() -> None:
    namespace: dict[str, Any] = {}
    exec("from pos_tool import *", namespace)  # noqa: S102 - the seed's validation step, verbatim

    assert set(pos_tool.__all__) <= set(namespace)
    assert namespace["register_workflow_tools"] is pos_tool.register_workflow_tools


async def test_task_1_2_tools_list_includes_exactly_one_pos_workflow_naming_all_14_actions(
    client: Client,
) -> None:
    tools = [tool for tool in (await client.list_tools()).tools if tool.name == "pos_workflow"]

    assert len(tools) == 1
    assert all(f"- {action}(" in (tools[0].description or "") for action in VALID_ACTIONS)
    assert tools[0].input_schema["properties"]["action"]["enum"] == list(VALID_ACTIONS)


async def test_task_1_3_unknown_action_and_missing_parameters(pos_workflow: Any) -> None:
    # Test unknown action
    result = await pos_workflow(action="invalid_action")
    assert result["status"] == "error"
    assert "valid_actions" in result

    # Test missing parameters
    result = await pos_workflow(action="start")  # Missing workflow_type, target_file
    assert result["status"] == "error"
    assert "workflow_type" in result["error"]


@pytest.mark.slow
async def test_task_1_4_path_traversal_and_evidence_size_are_rejected(pos_workflow: Any) -> None:
    # Test path traversal protection
    result = await pos_workflow(
        action="start", workflow_type="test_gen_v3", target_file="../../../etc/passwd"
    )
    assert result["status"] == "error"
    assert "directory traversal" in result["error"]

    # Test evidence size limit
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    large_evidence = {"data": "x" * (11 * 1024 * 1024)}
    result = await pos_workflow(
        action="complete_phase", session_id=session["session_id"], phase=1, evidence=large_evidence
    )
    assert result["status"] == "error"
    assert "too large" in result["error"]


async def test_task_1_4_malformed_session_ids_and_absolute_paths_are_rejected(
    pos_workflow: Any,
) -> None:
    for bad_id in ("../etc/passwd", "UPPER", "a" * 200, "", "id with spaces"):
        result = await pos_workflow(action="get_state", session_id=bad_id)
        assert result["status"] == "error", bad_id
        assert result["error_type"] in ("ValidationError", "LimitError"), bad_id
    result = await pos_workflow(
        action="start", workflow_type="test_gen_v3", target_file="/etc/passwd"
    )
    assert result["status"] == "error"
    assert "absolute path" in result["error"]


# ---------------------------------------------------------------- Phase 2


@pytest.mark.slow
async def test_task_2_1_list_workflows(pos_workflow: Any) -> None:
    result = await pos_workflow(action="list_workflows")
    assert result["status"] == "success"
    assert len(result["workflows"]) >= 2  # test_generation_v3, spec_creation_v1
    assert all("workflow_type" in w for w in result["workflows"])

    # Test filtering
    result = await pos_workflow(action="list_workflows", category="code_generation")
    assert all(w["category"] == "code_generation" for w in result["workflows"])


@pytest.mark.slow
async def test_task_2_2_start(pos_workflow: Any, in_project: Path) -> None:
    result = await pos_workflow(
        action="start", workflow_type="test_generation_v3", target_file="src/test.py"
    )
    assert result["status"] == "success"
    assert "session_id" in result
    assert result["current_phase"] == 1
    assert "phase_content" in result

    # Verify state file created
    state_file = f".praxis-os/state/workflows/{result['session_id']}.json"
    assert os.path.exists(state_file)


@pytest.mark.slow
async def test_task_2_3_get_phase(pos_workflow: Any) -> None:
    # Start session first
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")

    result = await pos_workflow(action="get_phase", session_id=session["session_id"])
    assert result["status"] == "success"
    assert result["current_phase"] == 1
    assert "phase_content" in result


@pytest.mark.slow
async def test_task_2_4_get_task(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")

    result = await pos_workflow(
        action="get_task", session_id=session["session_id"], phase=1, task_number=1
    )
    assert result["status"] == "success"
    assert "task_content" in result
    assert "execution_steps" in result["task_content"]


@pytest.mark.slow
async def test_task_2_5_complete_phase_success_case(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    evidence = example_evidence(
        session
    )  # the snippet's {"code_structure": {...}, "test_candidates": [...]}
    assert set(evidence) == {"code_structure", "test_candidates"}

    # Test success case
    result = await pos_workflow(
        action="complete_phase", session_id=session["session_id"], phase=1, evidence=evidence
    )
    assert result["status"] == "success"
    assert result["checkpoint_passed"] is True
    assert result["phase_completed"] == 1
    assert "next_phase" in result


@pytest.mark.slow
async def test_task_2_5_complete_phase_failure_case(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    code_structure = example_evidence(session)["code_structure"]

    # Test failure case
    result = await pos_workflow(
        action="complete_phase",
        session_id=session["session_id"],
        phase=1,
        evidence={"code_structure": code_structure},  # Missing test_candidates
    )
    assert result["status"] == "error"
    assert result["checkpoint_passed"] is False
    assert "missing_evidence" in result
    assert result["missing_evidence"] == ["test_candidates"]


@pytest.mark.slow
async def test_task_2_5_as_written_success_then_failure_on_the_same_session(
    pos_workflow: Any,
) -> None:
    # The snippet runs its failure case on the session whose phase 1 just passed: the
    # checkpoint still answers (nothing is recorded; phase 1 keeps its accepted evidence).
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    evidence = example_evidence(session)
    result = await pos_workflow(
        action="complete_phase", session_id=session["session_id"], phase=1, evidence=evidence
    )
    assert result["status"] == "success"
    assert result["checkpoint_passed"] is True
    assert result["phase_completed"] == 1
    assert "next_phase" in result

    result = await pos_workflow(
        action="complete_phase",
        session_id=session["session_id"],
        phase=1,
        evidence={"code_structure": evidence["code_structure"]},  # Missing test_candidates
    )
    assert result["status"] == "error"
    assert result["checkpoint_passed"] is False
    assert "missing_evidence" in result
    assert result["recorded"] is False
    assert "rollback" in result["remediation"]
    state = await pos_workflow(action="get_state", session_id=session["session_id"])
    assert (state["current_phase"], state["completed_phases"]) == (2, [1])


@pytest.mark.slow
async def test_task_2_6_get_state(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")

    result = await pos_workflow(action="get_state", session_id=session["session_id"])
    assert result["status"] == "success"
    assert "workflow_type" in result
    assert "current_phase" in result
    assert "artifacts" in result
    assert "resume_capable" in result


# ---------------------------------------------------------------- Phase 3


@pytest.mark.slow
async def test_task_3_1_list_sessions(pos_workflow: Any) -> None:
    # Create multiple sessions
    for i in range(3):
        await pos_workflow(action="start", workflow_type="test_gen_v3", target_file=f"test_{i}.py")

    result = await pos_workflow(action="list_sessions")
    assert result["status"] == "success"
    assert result["count"] >= 3

    # Test filtering
    result = await pos_workflow(action="list_sessions", status="active")
    assert all(s["status"] == "active" for s in result["sessions"])


@pytest.mark.slow
async def test_task_3_2_get_session(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")

    result = await pos_workflow(action="get_session", session_id=session["session_id"])
    assert result["status"] == "success"
    assert "session" in result
    assert "phase_history" in result["session"]


async def test_task_3_3_delete_session(pos_workflow: Any, in_project: Path) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    session_id = session["session_id"]

    result = await pos_workflow(
        action="delete_session", session_id=session_id, reason="Test cleanup"
    )
    assert result["status"] == "success"
    assert result["deleted"] is True

    # Verify state file removed
    state_file = f".praxis-os/state/workflows/{session_id}.json"
    assert not os.path.exists(state_file)


@pytest.mark.slow
async def test_task_3_4_pause(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")

    result = await pos_workflow(
        action="pause", session_id=session["session_id"], checkpoint_note="Waiting for review"
    )
    assert result["status"] == "success"
    assert result["paused"] is True
    assert result["resume_capable"] is True


@pytest.mark.slow
async def test_task_3_5_resume(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    await pos_workflow(action="pause", session_id=session["session_id"])

    result = await pos_workflow(action="resume", session_id=session["session_id"])
    assert result["status"] == "success"
    assert result["resumed"] is True
    assert result["current_phase"] == 1
    assert "paused_duration_seconds" in result


@pytest.mark.slow
async def test_task_3_6_retry_phase(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    # Simulate failure
    await pos_workflow(
        action="complete_phase", session_id=session["session_id"], phase=1, evidence={}
    )

    result = await pos_workflow(action="retry_phase", session_id=session["session_id"], phase=1)
    assert result["status"] == "success"
    assert result["retrying"] is True
    assert "phase_content" in result


@pytest.mark.slow
async def test_task_3_7_rollback(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    # Complete phase 1, advance to phase 2
    await pos_workflow(
        action="complete_phase",
        session_id=session["session_id"],
        phase=1,
        evidence=example_evidence(session),
    )

    result = await pos_workflow(action="rollback", session_id=session["session_id"], to_phase=1)
    assert result["status"] == "success"
    assert result["rolled_back"] is True
    assert result["to_phase"] == 1
    assert result["from_phase"] == 2


@pytest.mark.slow
async def test_task_3_8_get_errors(pos_workflow: Any) -> None:
    session = await pos_workflow(action="start", workflow_type="test_gen_v3", target_file="test.py")
    # Cause an error
    await pos_workflow(
        action="complete_phase", session_id=session["session_id"], phase=1, evidence={}
    )

    result = await pos_workflow(action="get_errors", session_id=session["session_id"])
    assert result["status"] == "success"
    assert result["error_count"] >= 1
    assert len(result["errors"]) >= 1
