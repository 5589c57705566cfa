"""Malformed calls and injected failures: always a structured error, never a leak."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, NoReturn

import pytest
from mcp import Client
from pos_engine import FileSessionStore, InternalError, WorkflowRegistry
from pos_tool import VALID_ACTIONS

pytestmark = pytest.mark.anyio

START_EXAMPLE = 'pos_workflow(action="start", workflow_type="test_generation_v3", target_file="src/calculator.py")'


async def test_an_unknown_action_lists_the_valid_actions(call: Any) -> None:
    result = await call("invalid_action")

    assert result == {
        "status": "error",
        "action": "invalid_action",
        "error": "unknown action 'invalid_action'; valid actions: " + ", ".join(VALID_ACTIONS),
        "error_type": "ValidationError",
        "remediation": 'Pass action as one of valid_actions, e.g. pos_workflow(action="list_workflows", '
        f'category="code_generation") or {START_EXAMPLE}.',
        "valid_actions": list(VALID_ACTIONS),
    }


async def test_a_call_without_action_gets_our_error_not_a_pydantic_dump(call: Any) -> None:
    result = await call(None, session_id="abc")

    assert result["status"] == "error"
    assert result["action"] is None
    assert result["error"].startswith(
        "action is required; it must be one of: list_workflows, start"
    )
    assert result["valid_actions"] == list(VALID_ACTIONS)
    assert "pydantic" not in json.dumps(result)


async def test_start_without_its_parameters_names_both_and_shows_an_example(call: Any) -> None:
    result = await call("start")

    assert result == {
        "status": "error",
        "action": "start",
        "error": "start requires workflow_type and target_file",
        "error_type": "ValidationError",
        "remediation": "start requires workflow_type and target_file and accepts options (optional). "
        f"Call it like: {START_EXAMPLE}",
        "details": {
            "required": ["workflow_type", "target_file"],
            "optional": ["options"],
            "missing_parameters": ["workflow_type", "target_file"],
        },
    }


async def test_a_partly_missing_call_names_what_is_missing(call: Any) -> None:
    result = await call("get_task", session_id="abc")

    assert (
        result["error"]
        == "get_task requires session_id, phase and task_number; phase and task_number are missing"
    )
    assert result["remediation"].endswith(
        'Call it like: pos_workflow(action="get_task", session_id="abc", phase=1, task_number=1)'
    )


async def test_a_parameter_the_action_does_not_use_is_named(call: Any) -> None:
    result = await call(
        "start", workflow_type="test_generation_v3", target_file="a.py", task_number=1
    )

    assert result["error_type"] == "ValidationError"
    assert result["error"] == "task_number is not a parameter of start"
    assert result["details"]["unexpected_parameters"] == ["task_number"]


async def test_an_argument_that_is_no_parameter_at_all_is_named_not_ignored(call: Any) -> None:
    result = await call("list_sessions", sesion_id="abc", verbose=True)

    assert result["status"] == "error"
    assert (
        result["error"]
        == "unknown arguments 'sesion_id' and 'verbose': pos_workflow has no such parameter"
    )
    assert result["details"]["unknown_arguments"] == ["sesion_id", "verbose"]


async def test_wrong_types_get_a_clear_validation_error(call: Any) -> None:
    result = await call("complete_phase", session_id="abc", phase="one", evidence="x")

    assert result["error_type"] == "ValidationError"
    assert (
        result["error"]
        == "phase must be an integer, got str 'one'; evidence must be a JSON object, got str 'x'"
    )
    assert "validation error for" not in result["error"]
    assert [p["parameter"] for p in result["details"]["invalid_parameters"]] == [
        "phase",
        "evidence",
    ]


@pytest.mark.slow
async def test_explicit_nulls_for_unused_parameters_are_ignored(call: Any) -> None:
    everything_null = dict.fromkeys(("session_id", "phase", "evidence", "to_phase", "status"))

    result = await call("list_workflows", **everything_null)

    assert result["status"] == "success"


# ------------------------------------------------------------ failure injection


def _assert_no_leak(result: dict[str, Any], project: Path) -> None:
    text = json.dumps(result)
    for secret in (str(project), str(project.resolve()), "/abs/secret", "Traceback", 'File "'):
        assert secret not in text, secret


@pytest.mark.slow
async def test_an_os_error_inside_the_store_becomes_a_generic_internal_error(
    call: Any, project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started = await call(
        "start", workflow_type="test_generation_v3", target_file="src/calculator.py"
    )

    def broken_load(self: FileSessionStore, session_id: str) -> NoReturn:
        raise OSError(f"/abs/secret/path {project}/.praxis-os/state: disk on fire")

    # get_state reads through peek (the store's read cache); a write would go through load.
    monkeypatch.setattr(FileSessionStore, "peek", broken_load)
    with caplog.at_level(logging.ERROR, logger="pos_tool"):
        result = await call("get_state", session_id=started["session_id"])

    assert set(result) == {"status", "action", "error", "error_type", "remediation", "error_id"}
    assert (result["status"], result["action"], result["error_type"]) == (
        "error",
        "get_state",
        "InternalError",
    )
    assert (
        result["error"] == f"internal error while running get_state (error id {result['error_id']})"
    )
    _assert_no_leak(result, project)
    logged = [r for r in caplog.records if result["error_id"] in r.getMessage()]
    assert (
        logged and logged[0].exc_info is not None
    )  # the traceback goes to the log, not the client


@pytest.mark.slow
async def test_a_runtime_error_while_starting_becomes_a_generic_internal_error(
    call: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_create(self: FileSessionStore, session: Any) -> NoReturn:
        raise RuntimeError(f"Traceback (most recent call last): {project} /abs/secret")

    monkeypatch.setattr(FileSessionStore, "create", broken_create)
    result = await call(
        "start", workflow_type="test_generation_v3", target_file="src/calculator.py"
    )

    assert (result["status"], result["error_type"]) == ("error", "InternalError")
    _assert_no_leak(result, project)


async def test_a_failing_workflow_registry_becomes_a_generic_internal_error(
    call: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_get(self: WorkflowRegistry, workflow_type: str) -> NoReturn:
        raise PermissionError(13, "Permission denied", f"{project}/universal/workflows")

    monkeypatch.setattr(WorkflowRegistry, "get", broken_get)
    result = await call(
        "start", workflow_type="test_generation_v3", target_file="src/calculator.py"
    )

    assert result["error_type"] == "InternalError"
    _assert_no_leak(result, project)


async def test_an_engine_error_naming_a_server_path_is_scrubbed(
    call: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_list(self: FileSessionStore, status: Any = None, **_: Any) -> NoReturn:
        raise InternalError(f"could not list {project.resolve()}/.praxis-os/state/workflows")

    monkeypatch.setattr(FileSessionStore, "list_page", broken_list)
    result = await call("list_sessions")

    assert result["error_type"] == "InternalError"
    assert result["error"] == "could not list <project>/.praxis-os/state/workflows"
    assert result["error_id"].startswith("err_")
    _assert_no_leak(result, project)


@pytest.mark.slow
async def test_an_unexpected_error_in_server_info_is_generic_too(
    client: Client, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_counts(self: FileSessionStore) -> NoReturn:
        raise OSError(f"/abs/secret {project}")

    monkeypatch.setattr(FileSessionStore, "count_by_status", broken_counts)
    result = await client.call_tool("get_server_info", {})

    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "internal error while reading server info (error id err_" in text
    assert "/abs/secret" not in text and str(project) not in text
