"""Every action through the in-process MCP client: success and error paths over a real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pos_tool import VALID_ACTIONS
from pos_tool.testing import example_evidence

pytestmark = pytest.mark.anyio

TARGET = "src/calculator.py"


async def _start(call: Any) -> dict[str, Any]:
    started: dict[str, Any] = await call(
        "start", workflow_type="test_generation_v3", target_file=TARGET
    )
    assert started["status"] == "success"
    return started


def _is_error(response: dict[str, Any], error_type: str) -> None:
    assert response["status"] == "error"
    assert response["error_type"] == error_type
    assert response["error"]
    assert response["remediation"]


# ------------------------------------------------------------------ discovery


async def test_list_workflows_returns_the_bundled_workflows_with_next_actions(call: Any) -> None:
    result = await call("list_workflows")

    assert result["status"] == "success"
    assert result["action"] == "list_workflows"
    types = [w["workflow_type"] for w in result["workflows"]]
    assert "test_generation_v3" in types
    assert result["count"] == len(types)
    assert result["next_actions"] == ["start", "list_sessions"]
    entry = next(w for w in result["workflows"] if w["workflow_type"] == "test_generation_v3")
    assert {"name", "description", "category", "phases", "estimated_duration"} <= set(entry)


async def test_list_workflows_filters_by_category(call: Any) -> None:
    result = await call("list_workflows", category="code_generation")
    nothing = await call("list_workflows", category="no_such_category")

    assert result["workflows"]
    assert all(w["category"] == "code_generation" for w in result["workflows"])
    assert (nothing["status"], nothing["workflows"], nothing["count"]) == ("success", [], 0)


async def test_list_workflows_rejects_a_category_that_is_not_a_string(call: Any) -> None:
    result = await call("list_workflows", category=5)

    _is_error(result, "ValidationError")
    assert result["error"] == "category must be a string, got int 5"


# ------------------------------------------------------------------ execution


async def test_start_returns_a_session_and_the_first_phase(call: Any, project: Path) -> None:
    result = await _start(call)

    assert result["action"] == "start"
    assert result["workflow_type"] == "test_generation_v3"
    assert result["target_file"] == TARGET
    assert (result["current_phase"], result["total_phases"]) == (1, 5)
    assert result["phase_content"]["phase"] == 1
    assert result["phase_content"]["checkpoint"]["required_evidence"] == [
        "code_structure",
        "test_candidates",
    ]
    assert result["next_actions"][0] == "get_phase"
    assert (
        project / ".praxis-os" / "state" / "workflows" / f"{result['session_id']}.json"
    ).is_file()


async def test_start_refuses_a_path_outside_the_project(call: Any) -> None:
    result = await call(
        "start", workflow_type="test_generation_v3", target_file="../../../etc/passwd"
    )

    _is_error(result, "ValidationError")
    assert "directory traversal" in result["error"]


async def test_start_of_an_unknown_workflow_lists_the_available_ones(call: Any) -> None:
    result = await call("start", workflow_type="no_such_workflow", target_file=TARGET)

    _is_error(result, "NotFoundError")
    assert "test_generation_v3" in result["error"]


async def test_start_stores_the_options_shown_by_get_session(call: Any) -> None:
    started = await call(
        "start",
        workflow_type="test_generation_v3",
        target_file=TARGET,
        options={"framework": "pytest"},
    )
    session = await call("get_session", session_id=started["session_id"])

    assert session["session"]["options"] == {"framework": "pytest"}


async def test_get_phase_returns_the_current_phase_with_earlier_artifacts(call: Any) -> None:
    started = await _start(call)
    sid = started["session_id"]
    evidence = example_evidence(started)
    await call("complete_phase", session_id=sid, phase=1, evidence=evidence)

    result = await call("get_phase", session_id=sid)

    assert (result["status"], result["current_phase"], result["total_phases"]) == ("success", 2, 5)
    assert result["phase_content"]["artifacts_from_previous_phases"] == {"1": evidence}


async def test_get_phase_of_an_unknown_session_is_not_found(call: Any) -> None:
    result = await call("get_phase", session_id="no_such_session")

    _is_error(result, "NotFoundError")


async def test_get_phase_rejects_a_malformed_session_id(call: Any) -> None:
    result = await call("get_phase", session_id="../../etc/passwd")

    _is_error(result, "ValidationError")
    assert "not a valid session id" in result["error"]


async def test_get_task_returns_the_task_with_its_execution_steps(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("get_task", session_id=sid, phase=1, task_number=1)

    assert result["status"] == "success"
    content = result["task_content"]
    assert {
        "title",
        "description",
        "execution_steps",
        "artifacts_to_produce",
        "estimated_duration",
    } <= set(content)
    step = content["execution_steps"][0]
    assert {"step", "command", "description", "expected_output"} <= set(step)


async def test_get_task_out_of_range_names_the_valid_range(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("get_task", session_id=sid, phase=1, task_number=99)

    _is_error(result, "NotFoundError")
    assert "tasks 1-3" in result["error"]


async def test_get_task_of_a_phase_not_reached_yet_is_a_state_error(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("get_task", session_id=sid, phase=3, task_number=1)

    _is_error(result, "StateError")


async def test_complete_phase_with_example_evidence_advances_to_the_next_phase(call: Any) -> None:
    started = await _start(call)

    result = await call(
        "complete_phase",
        session_id=started["session_id"],
        phase=1,
        evidence=example_evidence(started),
    )

    assert result["status"] == "success"
    assert (result["checkpoint_passed"], result["phase_completed"], result["next_phase"]) == (
        True,
        1,
        2,
    )
    assert result["evidence_accepted"] is True
    assert result["phase_content"]["phase"] == 2


async def test_a_failed_checkpoint_is_an_error_listing_what_is_missing(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call(
        "complete_phase", session_id=sid, phase=1, evidence={"code_structure": {"module": "x"}}
    )

    _is_error(result, "ValidationError")
    assert result["checkpoint_passed"] is False
    assert result["missing_evidence"] == ["test_candidates"]
    assert result["validation_errors"]
    assert all({"pointer", "keyword", "message"} <= set(e) for e in result["validation_errors"])
    assert result["session_status"] == "failed"
    assert "retry_phase" in result["next_actions"]


async def test_complete_phase_of_another_phase_is_a_state_error_naming_the_current_one(
    call: Any,
) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("complete_phase", session_id=sid, phase=2, evidence={"x": 1})

    _is_error(result, "StateError")
    assert result["error"] == "phase 2 is not the current phase (1); complete phase 1 first"


async def test_complete_phase_with_evidence_over_10_mb_is_a_limit_error(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call(
        "complete_phase", session_id=sid, phase=1, evidence={"data": "x" * (11 * 1024 * 1024)}
    )

    _is_error(result, "LimitError")
    assert "too large" in result["error"]


async def test_a_whole_workflow_completes_with_each_phases_example_evidence(
    call: Any, project: Path
) -> None:
    current = await _start(call)
    sid = current["session_id"]
    while True:
        phase = current["phase_content"]["phase"]
        done = await call(
            "complete_phase",
            session_id=sid,
            phase=phase,
            evidence=example_evidence(current, project),
        )
        assert done["checkpoint_passed"] is True, done
        if done["workflow_completed"]:
            break
        current = done

    state = await call("get_state", session_id=sid)

    assert state["session_status"] == "completed"
    assert state["completed_phases"] == [1, 2, 3, 4, 5]
    assert state["resume_capable"] is False


async def test_get_state_reports_progress_artifacts_and_resume_capability(call: Any) -> None:
    started = await _start(call)
    sid = started["session_id"]
    await call("complete_phase", session_id=sid, phase=1, evidence=example_evidence(started))

    result = await call("get_state", session_id=sid)

    assert result["status"] == "success"
    assert result["workflow_type"] == "test_generation_v3"
    assert (result["current_phase"], result["completed_phases"]) == (2, [1])
    assert list(result["artifacts"]) == ["1"]
    assert result["session_status"] == "active"
    assert result["resume_capable"] is True
    assert {"created_at", "last_updated", "total_phases", "target_file"} <= set(result)


async def test_get_state_of_an_unknown_session_is_not_found(call: Any) -> None:
    _is_error(await call("get_state", session_id="missing_session"), "NotFoundError")


# ----------------------------------------------------------------- management


async def test_list_sessions_filters_by_status(call: Any) -> None:
    active = (await _start(call))["session_id"]
    paused = (await _start(call))["session_id"]
    await call("pause", session_id=paused)

    everything = await call("list_sessions")
    only_paused = await call("list_sessions", status="paused")

    assert everything["count"] == 2
    assert {s["session_id"] for s in everything["sessions"]} == {active, paused}
    assert [s["session_id"] for s in only_paused["sessions"]] == [paused]
    assert only_paused["next_actions"] == ["get_session", "get_state", "start"]


async def test_list_sessions_rejects_an_unknown_status(call: Any) -> None:
    result = await call("list_sessions", status="sleeping")

    _is_error(result, "ValidationError")
    assert "active, paused, completed, failed" in result["error"]


async def test_get_session_includes_phase_history_with_durations(call: Any) -> None:
    started = await _start(call)
    sid = started["session_id"]
    await call("complete_phase", session_id=sid, phase=1, evidence=example_evidence(started))

    result = await call("get_session", session_id=sid)

    history = result["session"]["phase_history"]
    assert [(h["phase"], h["status"]) for h in history] == [(1, "passed"), (2, "in_progress")]
    assert history[0]["duration_seconds"] is not None
    assert "evidence" not in result["session"]


async def test_get_session_of_an_unknown_session_is_not_found(call: Any) -> None:
    _is_error(await call("get_session", session_id="missing_session"), "NotFoundError")


async def test_delete_session_removes_the_state_file(call: Any, project: Path) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("delete_session", session_id=sid, reason="test cleanup")

    assert (result["status"], result["deleted"], result["reason"]) == (
        "success",
        True,
        "test cleanup",
    )
    assert result["cleanup"]["state_file_removed"] is True
    assert not (project / ".praxis-os" / "state" / "workflows" / f"{sid}.json").exists()
    _is_error(await call("get_state", session_id=sid), "NotFoundError")


async def test_deleting_a_missing_session_is_not_an_error(call: Any) -> None:
    result = await call("delete_session", session_id="never_existed")

    assert (result["status"], result["deleted"]) == ("success", False)


async def test_pause_records_the_checkpoint_note(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("pause", session_id=sid, checkpoint_note="waiting for review")

    assert (result["paused"], result["resume_capable"]) == (True, True)
    assert (result["checkpoint"]["phase"], result["checkpoint"]["note"]) == (
        1,
        "waiting for review",
    )
    assert result["next_actions"][0] == "resume"


async def test_pausing_a_paused_session_names_its_state_and_the_allowed_moves(call: Any) -> None:
    sid = (await _start(call))["session_id"]
    await call("pause", session_id=sid)

    result = await call("pause", session_id=sid)

    _is_error(result, "StateError")
    assert "'paused'" in result["error"]
    assert "resume" in result["remediation"]
    assert result["details"]["session_status"] == "paused"


async def test_resume_returns_the_current_phase_and_the_paused_duration(call: Any) -> None:
    sid = (await _start(call))["session_id"]
    await call("pause", session_id=sid)

    result = await call("resume", session_id=sid)

    assert (result["resumed"], result["current_phase"]) == (True, 1)
    assert result["paused_duration_seconds"] >= 0
    assert result["phase_content"]["phase"] == 1


async def test_resuming_an_active_session_is_a_state_error(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    _is_error(await call("resume", session_id=sid), "StateError")


# ------------------------------------------------------------------- recovery


async def test_retry_phase_after_a_failed_checkpoint_returns_the_previous_errors(call: Any) -> None:
    sid = (await _start(call))["session_id"]
    await call("complete_phase", session_id=sid, phase=1, evidence={})

    result = await call("retry_phase", session_id=sid, phase=1, reset_evidence=True)

    assert (result["retrying"], result["evidence_reset"], result["session_status"]) == (
        True,
        True,
        "active",
    )
    assert len(result["previous_errors"]) == 1
    assert result["phase_content"]["phase"] == 1


async def test_retry_phase_of_another_phase_is_a_state_error(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    _is_error(await call("retry_phase", session_id=sid, phase=2), "StateError")


async def test_rollback_clears_artifacts_of_later_phases(call: Any) -> None:
    current = await _start(call)
    sid = current["session_id"]
    for phase in (1, 2):
        current = await call(
            "complete_phase", session_id=sid, phase=phase, evidence=example_evidence(current)
        )

    result = await call("rollback", session_id=sid, to_phase=1)
    state = await call("get_state", session_id=sid)

    assert (result["rolled_back"], result["from_phase"], result["to_phase"]) == (True, 3, 1)
    assert result["cleared_phases"] == [2]
    assert (state["current_phase"], state["completed_phases"]) == (1, [])
    assert "2" not in state["artifacts"]


async def test_rollback_forward_is_a_state_error(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call("rollback", session_id=sid, to_phase=3)

    _is_error(result, "StateError")
    assert "cannot roll back forward" in result["error"]


async def test_get_errors_lists_failed_checkpoints(call: Any) -> None:
    sid = (await _start(call))["session_id"]
    clean = await call("get_errors", session_id=sid)
    await call("complete_phase", session_id=sid, phase=1, evidence={})

    result = await call("get_errors", session_id=sid)

    assert (clean["errors"], clean["error_count"], clean["last_error"]) == ([], 0, None)
    assert result["error_count"] == 1
    error = result["errors"][0]
    assert {"phase", "timestamp", "error_type", "message", "details", "remediation"} <= set(error)
    assert result["last_error"] == error


async def test_get_errors_of_an_unknown_session_is_not_found(call: Any) -> None:
    _is_error(await call("get_errors", session_id="missing_session"), "NotFoundError")


async def test_every_success_response_carries_status_action_and_next_actions(call: Any) -> None:
    started = await _start(call)
    sid = started["session_id"]
    calls: dict[str, dict[str, Any]] = {
        "list_workflows": {},
        "get_phase": {"session_id": sid},
        "get_task": {"session_id": sid, "phase": 1, "task_number": 1},
        "get_state": {"session_id": sid},
        "list_sessions": {},
        "get_session": {"session_id": sid},
        "get_errors": {"session_id": sid},
        "retry_phase": {"session_id": sid, "phase": 1},
        "rollback": {"session_id": sid, "to_phase": 1},
        "complete_phase": {"session_id": sid, "phase": 1, "evidence": example_evidence(started)},
        "pause": {"session_id": sid},
        "resume": {"session_id": sid},
        "delete_session": {"session_id": sid},
    }
    for action, arguments in calls.items():
        result = await call(action, **arguments)
        assert (result["status"], result["action"]) == ("success", action), result
        assert isinstance(result["next_actions"], list) and set(result["next_actions"]) <= set(
            VALID_ACTIONS
        )
