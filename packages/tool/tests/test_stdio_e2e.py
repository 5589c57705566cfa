"""End to end: ``python -m pos_tool serve`` as a subprocess, driven by the MCP SDK's stdio client.

One server serves the whole module (as an IDE keeps one running); each test
works on its own sessions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from pos_tool import VALID_ACTIONS
from pos_tool.testing import call_pos_workflow, example_evidence, server_parameters

# slow: the server as a stdio subprocess, one for the module (marking only some tests would
# move its start-up cost to the others)
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _params(project: Path) -> StdioServerParameters:
    return server_parameters(project, durable=False)


@pytest.fixture(scope="module")
def stdio_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stdio") / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calculator.py").write_text(
        "def add(a, b):\n    return a + b\n", encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
async def stdio_client(stdio_project: Path) -> AsyncIterator[Client]:
    async with Client(_params(stdio_project)) as client:
        yield client


@pytest.fixture
def call(stdio_client: Client) -> Any:
    async def run(action: str | None = None, **arguments: Any) -> dict[str, Any]:
        return await call_pos_workflow(stdio_client, action, **arguments)

    return run


async def _start(
    call: Any, target: str = "src/calculator.py", workflow: str = "test_generation_v3"
) -> Any:
    started = await call("start", workflow_type=workflow, target_file=target)
    assert started["status"] == "success", started
    return started


async def test_the_subprocess_lists_one_workflow_tool_and_the_server_info_tools(
    stdio_client: Client,
) -> None:
    tools = {tool.name: tool for tool in (await stdio_client.list_tools()).tools}

    assert list(tools) == ["pos_workflow", "get_server_info", "current_date"]
    assert tools["pos_workflow"].input_schema["properties"]["action"]["enum"] == list(VALID_ACTIONS)


@pytest.mark.parametrize("workflow", ["test_generation_v3", "spec_creation_v1"])
async def test_a_bundled_workflow_runs_from_start_to_completion(
    call: Any, workflow: str, stdio_project: Path
) -> None:
    current = await _start(call, workflow=workflow)
    sid = current["session_id"]
    while True:
        phase = current["phase_content"]["phase"]
        for task in current["phase_content"]["tasks"]:
            task_result = await call(
                "get_task", session_id=sid, phase=phase, task_number=task["task_number"]
            )
            assert task_result["task_content"]["execution_steps"], task_result
        done = await call(
            "complete_phase",
            session_id=sid,
            phase=phase,
            evidence=example_evidence(current, stdio_project),
        )
        assert done["checkpoint_passed"] is True, done
        if done["workflow_completed"]:
            break
        current = done

    state = await call("get_state", session_id=sid)

    assert state["session_status"] == "completed"
    assert len(state["completed_phases"]) == state["total_phases"]


async def test_a_failed_checkpoint_is_retried_and_then_passes(call: Any) -> None:
    started = await _start(call)
    sid = started["session_id"]

    failed = await call("complete_phase", session_id=sid, phase=1, evidence={"code_structure": {}})
    retry = await call("retry_phase", session_id=sid, phase=1)
    passed = await call(
        "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
    )
    history = (await call("get_session", session_id=sid))["session"]["phase_history"]

    assert (failed["status"], failed["checkpoint_passed"], failed["session_status"]) == (
        "error",
        False,
        "failed",
    )
    assert failed["missing_evidence"] == ["test_candidates"]
    assert (retry["retrying"], retry["new_attempt_opened"]) == (True, True)
    assert (passed["status"], passed["next_phase"]) == ("success", 2)
    assert [(h["phase"], h["attempt"], h["status"]) for h in history] == [
        (1, 1, "failed"),
        (1, 2, "passed"),
        (2, 1, "in_progress"),
    ]


async def test_get_errors_reports_the_failed_checkpoint(call: Any) -> None:
    sid = (await _start(call))["session_id"]
    await call("complete_phase", session_id=sid, phase=1, evidence={})

    errors = await call("get_errors", session_id=sid)

    assert errors["error_count"] == 1
    assert errors["errors"][0]["error_type"] == "CheckpointFailed"
    assert errors["errors"][0]["details"]["missing_evidence"] == [
        "code_structure",
        "test_candidates",
    ]


async def test_pause_blocks_progress_until_resume(call: Any) -> None:
    started = await _start(call)
    sid = started["session_id"]

    paused = await call("pause", session_id=sid, checkpoint_note="lunch")
    blocked = await call(
        "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
    )
    resumed = await call("resume", session_id=sid)
    passed = await call(
        "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
    )

    assert (paused["paused"], paused["checkpoint"]["note"]) == (True, "lunch")
    assert (blocked["error_type"], blocked["details"]["session_status"]) == ("StateError", "paused")
    assert (resumed["resumed"], resumed["checkpoint_note"], resumed["current_phase"]) == (
        True,
        "lunch",
        1,
    )
    assert passed["checkpoint_passed"] is True


async def test_rollback_returns_to_an_earlier_phase_and_clears_later_artifacts(
    call: Any, stdio_project: Path
) -> None:
    current = await _start(call)
    sid = current["session_id"]
    for phase in (1, 2, 3):
        current = await call(
            "complete_phase",
            session_id=sid,
            phase=phase,
            evidence=example_evidence(current, stdio_project),
        )

    rolled = await call("rollback", session_id=sid, to_phase=2)
    state = await call("get_state", session_id=sid)

    assert (rolled["rolled_back"], rolled["from_phase"], rolled["to_phase"]) == (True, 4, 2)
    # Phase 2 is reopened: artifacts hold completed phases only.
    assert (state["current_phase"], state["completed_phases"], sorted(state["artifacts"])) == (
        2,
        [1],
        ["1"],
    )


async def test_delete_session_removes_it_and_repeating_is_harmless(
    call: Any, stdio_project: Path
) -> None:
    sid = (await _start(call))["session_id"]

    first = await call("delete_session", session_id=sid, reason="e2e")
    again = await call("delete_session", session_id=sid)
    gone = await call("get_session", session_id=sid)

    assert (first["deleted"], again["deleted"]) == (True, False)
    assert gone["error_type"] == "NotFoundError"
    assert not (stdio_project / ".praxis-os" / "state" / "workflows" / f"{sid}.json").exists()


async def test_list_sessions_filters_by_status(call: Any) -> None:
    paused = (await _start(call, "src/paused.py"))["session_id"]
    failed = (await _start(call, "src/failed.py"))["session_id"]
    await call("pause", session_id=paused)
    await call("complete_phase", session_id=failed, phase=1, evidence={})

    by_status = {
        status: await call("list_sessions", status=status)
        for status in ("active", "paused", "failed")
    }
    everything = await call("list_sessions")

    for status, listing in by_status.items():
        assert all(s["status"] == status for s in listing["sessions"]), status
    assert paused in {s["session_id"] for s in by_status["paused"]["sessions"]}
    assert failed in {s["session_id"] for s in by_status["failed"]["sessions"]}
    assert everything["count"] == len(everything["sessions"]) >= 2


async def test_seed_validation_errors_hold_over_stdio(call: Any) -> None:
    unknown = await call("invalid_action")
    missing = await call("start")
    extra = await call("get_state", session_id="abc", surprise=1)
    no_action = await call(None)
    wrong = await call("get_task", session_id="abc", phase="one", task_number=1)

    assert (unknown["status"], unknown["valid_actions"]) == ("error", list(VALID_ACTIONS))
    assert missing["error"] == "start requires workflow_type and target_file"
    assert extra["error"] == "unknown argument 'surprise': pos_workflow has no such parameter"
    assert no_action["error"].startswith("action is required")
    assert wrong["error"] == "phase must be an integer, got str 'one'"


async def test_evidence_over_10_mb_gets_the_limit_error_over_stdio(call: Any) -> None:
    sid = (await _start(call))["session_id"]

    result = await call(
        "complete_phase", session_id=sid, phase=1, evidence={"blob": "x" * (11 * 1024 * 1024)}
    )

    assert (result["status"], result["error_type"]) == ("error", "LimitError")
    assert "too large" in result["error"]


async def test_get_server_info_counts_the_sessions_of_the_project(
    stdio_client: Client, call: Any
) -> None:
    listed = await call("list_sessions")

    info = (await stdio_client.call_tool("get_server_info", {})).structured_content

    assert info is not None
    assert (info["project"], info["store"], info["registry"]) == ("project", "file", "default")
    assert sum(info["sessions"].values()) == listed["count"]


async def test_a_session_survives_a_server_restart(tmp_path: Path) -> None:
    project = tmp_path / "restart"
    (project / "src").mkdir(parents=True)
    async with Client(_params(project)) as first:
        started = await call_pos_workflow(
            first, "start", workflow_type="test_gen_v3", target_file="src/a.py"
        )
        sid = started["session_id"]
        await call_pos_workflow(
            first, "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
        )
        await call_pos_workflow(first, "pause", session_id=sid, checkpoint_note="restart")

    async with Client(_params(project)) as second:
        resumed = await call_pos_workflow(second, "resume", session_id=sid)

    assert (resumed["status"], resumed["current_phase"], resumed["checkpoint_note"]) == (
        "success",
        2,
        "restart",
    )
