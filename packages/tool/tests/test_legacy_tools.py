"""The archived ``workflow_legacy`` tool group: surface, answers, errors, cutover and rollback.

Every test runs the real engine on a temporary project and talks to the real
server through the MCP client: in-process for speed, as a stdio subprocess for
the end-to-end path the cutover's verification takes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from pos_engine import WorkflowEngine
from pos_engine._definitions import load_definition
from pos_tool import (
    LEGACY_TOOL_NAMES,
    LEGACY_TOOLS,
    REGISTRY_FILE,
    TOOL_GROUPS,
    build_server,
    load_tool_registry,
)
from pos_tool import _legacy_tools as legacy_module
from pos_tool.testing import call_pos_workflow, example_evidence, server_parameters, tool_response

pytestmark = pytest.mark.anyio

LEGACY_SEVEN = (
    "start_workflow",
    "get_current_phase",
    "get_task",
    "complete_phase",
    "get_workflow_state",
    "create_workflow",
    "validate_workflow",
)
SERVER_INFO = ("get_server_info", "current_date")
PRE_CUTOVER = ["workflow_legacy", "server_info"]
POST_CUTOVER = ["workflow", "server_info"]
WORKFLOW = "test_generation_v3"
TARGET = "src/calculator.py"
MAX_LEGACY_DESCRIPTION_BYTES = 400
MAX_TOOLS_LIST_BYTES = 15 * 1024


def _write_registry(project: Path, groups: list[str]) -> None:
    path = project / REGISTRY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "groups": groups}), encoding="utf-8")


def _server(project: Path, groups: list[str]) -> MCPServer:
    _write_registry(project, groups)
    return build_server(project, durable=False)


async def _legacy(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a legacy tool and return its JSON object (checked against the text and is_error)."""
    return tool_response(await client.call_tool(tool, arguments))


def _wire(model: Any) -> str:
    """The JSON a client receives for ``model`` (camelCase keys, no nulls)."""
    return json.dumps(
        model.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":")
    )


def _leaks(response: dict[str, Any], *paths: Path) -> list[str]:
    text = json.dumps(response)
    return [str(p) for p in paths if str(p) in text]


@pytest.fixture
def legacy_server(project: Path) -> MCPServer:
    return _server(project, PRE_CUTOVER)


@pytest.fixture
async def legacy(legacy_server: MCPServer) -> AsyncIterator[Client]:
    async with Client(legacy_server) as connected:
        yield connected


@pytest.fixture
async def both(project: Path) -> AsyncIterator[Client]:
    """A server registering pos_workflow and the legacy tools together."""
    async with Client(_server(project, ["workflow", "workflow_legacy", "server_info"])) as c:
        yield c


# ------------------------------------------------------------------ surface


async def test_a_registry_naming_workflow_legacy_lists_exactly_the_seven_legacy_tools(
    legacy: Client, project: Path
) -> None:
    names = [tool.name for tool in (await legacy.list_tools()).tools]

    assert names == [*LEGACY_SEVEN, *SERVER_INFO]
    assert LEGACY_TOOL_NAMES == LEGACY_SEVEN
    assert TOOL_GROUPS["workflow_legacy"].tools == LEGACY_SEVEN
    assert load_tool_registry(project).tools == (*LEGACY_SEVEN, *SERVER_INFO)


@pytest.mark.parametrize("groups", [None, POST_CUTOVER, ["workflow"], ["server_info"]])
async def test_without_workflow_legacy_in_the_registry_no_legacy_tool_is_listed(
    project: Path, groups: list[str] | None
) -> None:
    server = build_server(project, durable=False) if groups is None else _server(project, groups)

    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}

    assert names.isdisjoint(LEGACY_SEVEN)


async def test_both_groups_can_be_registered_together(both: Client) -> None:
    names = [tool.name for tool in (await both.list_tools()).tools]

    assert names == ["pos_workflow", *LEGACY_SEVEN, *SERVER_INFO]


async def test_every_legacy_description_says_archived_and_names_its_pos_workflow_replacement(
    legacy: Client,
) -> None:
    tools = {tool.name: tool for tool in (await legacy.list_tools()).tools}
    replacements = {
        "start_workflow": 'pos_workflow(action="start"',
        "get_current_phase": 'pos_workflow(action="get_phase"',
        "get_task": 'pos_workflow(action="get_task"',
        "complete_phase": 'pos_workflow(action="complete_phase"',
        "get_workflow_state": 'pos_workflow(action="get_state"',
        "create_workflow": 'pos_workflow(action="list_workflows"',
        "validate_workflow": 'pos_workflow(action="list_workflows"',
    }

    for name, replacement in replacements.items():
        description = tools[name].description
        assert description is not None
        assert description.startswith("Archived: use "), name
        assert replacement in description, name
        assert len(description.encode()) < MAX_LEGACY_DESCRIPTION_BYTES, name


async def test_legacy_tools_publish_their_parameters_with_types_and_required_ones(
    legacy: Client,
) -> None:
    tools = {tool.name: tool for tool in (await legacy.list_tools()).tools}
    expected = {
        "start_workflow": (
            {"workflow_type", "target_file"},
            ["workflow_type", "target_file", "options"],
        ),
        "get_current_phase": ({"session_id"}, ["session_id"]),
        "get_task": (
            {"session_id", "phase", "task_number"},
            ["session_id", "phase", "task_number"],
        ),
        "complete_phase": (
            {"session_id", "phase", "evidence"},
            ["session_id", "phase", "evidence"],
        ),
        "get_workflow_state": ({"session_id"}, ["session_id"]),
        "create_workflow": (
            {"workflow_type", "name", "description"},
            ["workflow_type", "name", "description", "category", "phases"],
        ),
        "validate_workflow": (set(), ["workflow_type", "path"]),
    }

    for name, (required, properties) in expected.items():
        schema = tools[name].input_schema
        assert set(schema.get("required", [])) == required, name
        assert list(schema["properties"]) == properties, name
        for prop, spec in schema["properties"].items():
            kind = legacy_module.LEGACY_PARAMETERS[prop].kind
            assert spec["type"] == kind, (name, prop)
            assert spec["description"], (name, prop)
    create = tools["create_workflow"].input_schema["properties"]
    assert (create["category"]["default"], create["phases"]["default"]) == ("custom", 1)
    assert tools["get_task"].output_schema is not None
    assert tools["get_task"].output_schema["required"] == ["status", "action"]


async def test_read_tools_are_annotated_read_only_and_writing_tools_are_not(
    legacy: Client,
) -> None:
    tools = {tool.name: tool for tool in (await legacy.list_tools()).tools}

    hints = {
        name: (t.annotations.read_only_hint, t.annotations.idempotent_hint)
        for name, t in tools.items()
        if name in LEGACY_SEVEN and t.annotations is not None
    }

    assert hints == {
        "start_workflow": (False, False),
        "get_current_phase": (True, True),
        "get_task": (True, True),
        "complete_phase": (False, False),
        "get_workflow_state": (True, True),
        "create_workflow": (False, False),
        "validate_workflow": (True, True),
    }


async def test_tools_list_with_the_legacy_group_stays_within_its_byte_budget(
    legacy: Client, both: Client
) -> None:
    pre_cutover = len(_wire(await legacy.list_tools()).encode())
    together = len(_wire(await both.list_tools()).encode())

    print(f"tools/list: workflow_legacy+server_info {pre_cutover} B, all three groups {together} B")
    assert pre_cutover < MAX_TOOLS_LIST_BYTES


# --------------------------------------------------- the five delegating tools


@pytest.mark.slow
async def test_start_workflow_answers_exactly_as_pos_workflow_start_with_its_own_action_name(
    both: Client,
) -> None:
    old = await _legacy(both, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET)
    new = await call_pos_workflow(both, "start", workflow_type=WORKFLOW, target_file=TARGET)

    assert old == {**new, "action": "start_workflow", "session_id": old["session_id"]}
    assert old["session_id"] != new["session_id"]
    assert (old["status"], old["current_phase"], old["total_phases"]) == ("success", 1, 5)


@pytest.mark.slow
async def test_the_read_tools_answer_exactly_as_their_pos_workflow_actions(both: Client) -> None:
    sid = (await _legacy(both, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET))[
        "session_id"
    ]
    pairs = [
        ("get_current_phase", "get_phase", {"session_id": sid}),
        ("get_task", "get_task", {"session_id": sid, "phase": 1, "task_number": 2}),
        ("get_workflow_state", "get_state", {"session_id": sid}),
    ]

    for tool, action, arguments in pairs:
        old = await _legacy(both, tool, **arguments)
        new = await call_pos_workflow(both, action, **arguments)
        assert old == {**new, "action": tool}, tool
        assert old["status"] == "success"


async def test_complete_phase_passes_with_the_example_evidence_and_fails_in_the_pos_workflow_shape(
    both: Client,
) -> None:
    started = await _legacy(both, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET)
    sid = started["session_id"]

    failed = await _legacy(both, "complete_phase", session_id=sid, phase=1, evidence={})
    passed = await _legacy(
        both, "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
    )

    assert {k: failed[k] for k in ("status", "action", "error_type", "checkpoint_passed")} == {
        "status": "error",
        "action": "complete_phase",
        "error_type": "ValidationError",
        "checkpoint_passed": False,
    }
    assert failed["missing_evidence"] == started["phase_content"]["checkpoint"]["required_evidence"]
    assert failed["remediation"].endswith("then call complete_phase with phase=1 again.")
    assert {k: passed[k] for k in ("status", "action", "checkpoint_passed", "next_phase")} == {
        "status": "success",
        "action": "complete_phase",
        "checkpoint_passed": True,
        "next_phase": 2,
    }


@pytest.mark.slow
async def test_a_session_runs_to_completion_through_the_legacy_tools_alone(
    legacy: Client, project: Path
) -> None:
    started = await _legacy(legacy, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET)
    sid = started["session_id"]

    completed = None
    for _ in range(started["total_phases"]):
        current = await _legacy(legacy, "get_current_phase", session_id=sid)
        phase = current["current_phase"]
        for task in current["phase_content"]["tasks"]:
            got = await _legacy(
                legacy, "get_task", session_id=sid, phase=phase, task_number=task["task_number"]
            )
            assert got["task_content"]["execution_steps"], (phase, task)
        completed = await _legacy(
            legacy,
            "complete_phase",
            session_id=sid,
            phase=phase,
            evidence=example_evidence(current, project),
        )
        assert completed["checkpoint_passed"] is True, completed
    state = await _legacy(legacy, "get_workflow_state", session_id=sid)

    assert completed is not None and completed["workflow_completed"] is True
    assert (state["session_status"], state["completed_phases"]) == ("completed", [1, 2, 3, 4, 5])


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("tool", "missing", "error"),
    [
        (
            "start_workflow",
            ["workflow_type", "target_file"],
            "start_workflow requires workflow_type and target_file",
        ),
        ("get_current_phase", ["session_id"], "get_current_phase requires session_id"),
        (
            "get_task",
            ["session_id", "phase", "task_number"],
            "get_task requires session_id, phase and task_number",
        ),
        (
            "complete_phase",
            ["session_id", "phase", "evidence"],
            "complete_phase requires session_id, phase and evidence",
        ),
        ("get_workflow_state", ["session_id"], "get_workflow_state requires session_id"),
        (
            "create_workflow",
            ["workflow_type", "name", "description"],
            "create_workflow requires workflow_type, name and description",
        ),
    ],
)
async def test_a_call_without_its_required_arguments_is_a_structured_error_naming_them(
    legacy: Client, tool: str, missing: list[str], error: str
) -> None:
    response = await _legacy(legacy, tool)

    assert response == {
        "status": "error",
        "action": tool,
        "error": error,
        "error_type": "ValidationError",
        "remediation": response["remediation"],
        "details": {
            "required": missing,
            "optional": list(LEGACY_TOOLS[tool].optional),
            "missing_parameters": missing,
        },
    }
    assert response["remediation"].startswith(f"Call it like: {tool}(")
    assert "archived: prefer " in response["remediation"]


async def test_a_legacy_tool_words_an_argument_error_as_its_pos_workflow_action_does(
    both: Client,
) -> None:
    arguments = {"session_id": "abc", "phase": True, "colour": "red"}

    old = await _legacy(both, "get_task", **arguments)
    new = await call_pos_workflow(both, "get_task", **arguments)

    assert old["error"] == (
        "get_task requires session_id, phase and task_number; task_number is missing; "
        "unknown argument 'colour': get_task takes session_id, phase and task_number; "
        "phase must be an integer, got bool True"
    )
    assert new["error"] == old["error"].replace(
        "get_task takes session_id, phase and task_number", "pos_workflow has no such parameter"
    )
    assert old["details"] == new["details"]


async def test_wrong_types_and_unknown_arguments_are_reported_together(legacy: Client) -> None:
    response = await _legacy(
        legacy, "get_task", session_id="abc", phase="1", task_number=True, colour="red"
    )

    assert response["status"] == "error"
    assert response["error"] == (
        "unknown argument 'colour': get_task takes session_id, phase and task_number; "
        "phase must be an integer, got str '1'; "
        "task_number must be an integer, got bool True"
    )
    assert response["details"]["unknown_arguments"] == ["colour"]
    assert [p["parameter"] for p in response["details"]["invalid_parameters"]] == [
        "phase",
        "task_number",
    ]


async def test_engine_errors_keep_the_pos_workflow_error_shape(both: Client) -> None:
    sid = "test_generation_v3_nothing_py_20251023_143022_3f9a1c"

    old = await _legacy(both, "get_current_phase", session_id=sid)
    new = await call_pos_workflow(both, "get_phase", session_id=sid)
    bad_id = await _legacy(both, "get_workflow_state", session_id="../etc")

    assert old == {**new, "action": "get_current_phase"}
    assert old["error_type"] == "NotFoundError"
    assert set(old) >= {"status", "action", "error", "error_type", "remediation"}
    assert (bad_id["error_type"], bad_id["action"]) == ("ValidationError", "get_workflow_state")


async def test_paths_outside_the_project_are_refused_without_leaking_a_server_path(
    legacy: Client, project: Path
) -> None:
    calls = [
        ("start_workflow", {"workflow_type": WORKFLOW, "target_file": "../../etc/passwd"}),
        ("start_workflow", {"workflow_type": WORKFLOW, "target_file": str(project / "x.py")}),
        ("validate_workflow", {"path": "../outside"}),
        ("validate_workflow", {"path": str(project / ".praxis-os")}),
        ("validate_workflow", {"path": "src/calculator.py"}),
        ("validate_workflow", {"path": "no/such/folder"}),
    ]

    for tool, arguments in calls:
        response = await _legacy(legacy, tool, **arguments)
        assert response["status"] == "error", (tool, arguments)
        assert response["error_type"] in {"ValidationError", "NotFoundError"}, response
        assert _leaks(response, project, project.resolve(), project.parent) == [], response


async def test_an_unexpected_failure_is_an_internal_error_with_an_id_and_no_path(
    legacy: Client, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(self: WorkflowEngine, session_id: object) -> dict[str, Any]:
        raise RuntimeError(f"disk on fire under {project}")

    monkeypatch.setattr(WorkflowEngine, "get_workflow_state", explode)

    response = await _legacy(
        legacy, "get_workflow_state", session_id="test_generation_v3_a_20251023_143022_3f9a1c"
    )

    assert response == {
        "status": "error",
        "action": "get_workflow_state",
        "error": response["error"],
        "error_type": "InternalError",
        "remediation": response["remediation"],
        "error_id": response["error_id"],
    }
    assert response["error_id"].startswith("err_") and response["error_id"] in response["error"]
    assert _leaks(response, project) == []


# ---------------------------------------------------- cutover and rollback


async def _finish_with_pos_workflow(client: Client, sid: str, project: Path) -> dict[str, Any]:
    current = await call_pos_workflow(client, "get_phase", session_id=sid)
    while True:
        done = await call_pos_workflow(
            client,
            "complete_phase",
            session_id=sid,
            phase=current["current_phase"],
            evidence=example_evidence(current, project),
        )
        assert done["checkpoint_passed"] is True, done
        if done["workflow_completed"]:
            return done
        current = await call_pos_workflow(client, "get_phase", session_id=sid)


async def _finish_with_legacy_tools(client: Client, sid: str, project: Path) -> dict[str, Any]:
    current = await _legacy(client, "get_current_phase", session_id=sid)
    while True:
        done = await _legacy(
            client,
            "complete_phase",
            session_id=sid,
            phase=current["current_phase"],
            evidence=example_evidence(current, project),
        )
        assert done["checkpoint_passed"] is True, done
        if done["workflow_completed"]:
            return done
        current = await _legacy(client, "get_current_phase", session_id=sid)


@pytest.mark.slow
async def test_a_session_started_with_start_workflow_is_finished_with_pos_workflow_after_cutover(
    project: Path,
) -> None:
    async with Client(_server(project, PRE_CUTOVER)) as before:
        started = await _legacy(
            before, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET
        )
        sid = started["session_id"]
        await _legacy(
            before, "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
        )

    async with Client(_server(project, POST_CUTOVER)) as after:
        names = {tool.name for tool in (await after.list_tools()).tools}
        phase = await call_pos_workflow(after, "get_phase", session_id=sid)
        done = await _finish_with_pos_workflow(after, sid, project)
        state = await call_pos_workflow(after, "get_state", session_id=sid)

    assert names.isdisjoint(LEGACY_SEVEN)
    assert (phase["current_phase"], phase["completed_phases"]) == (2, [1])
    assert "1" in phase["phase_content"]["artifacts_from_previous_phases"]
    assert done["workflow_completed"] is True
    assert (state["session_status"], state["completed_phases"]) == ("completed", [1, 2, 3, 4, 5])


@pytest.mark.slow
async def test_a_session_started_with_pos_workflow_is_finished_with_the_legacy_tools_after_rollback(
    project: Path,
) -> None:
    async with Client(_server(project, POST_CUTOVER)) as after:
        started = await call_pos_workflow(
            after, "start", workflow_type=WORKFLOW, target_file=TARGET
        )
        sid = started["session_id"]
        await call_pos_workflow(
            after, "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
        )
        await call_pos_workflow(after, "pause", session_id=sid, checkpoint_note="rolling back")
        await call_pos_workflow(after, "resume", session_id=sid)

    async with Client(_server(project, PRE_CUTOVER)) as before:
        state = await _legacy(before, "get_workflow_state", session_id=sid)
        done = await _finish_with_legacy_tools(before, sid, project)
        final = await _legacy(before, "get_workflow_state", session_id=sid)

    assert (state["current_phase"], state["session_status"], state["checkpoint_note"]) == (
        2,
        "active",
        "rolling back",
    )
    assert done["workflow_completed"] is True
    assert final["session_status"] == "completed"


@pytest.mark.slow
async def test_with_both_groups_registered_one_session_moves_between_the_two_surfaces(
    both: Client,
) -> None:
    started = await _legacy(both, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET)
    sid = started["session_id"]

    await call_pos_workflow(
        both, "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
    )
    legacy_view = await _legacy(both, "get_current_phase", session_id=sid)
    await _legacy(
        both, "complete_phase", session_id=sid, phase=2, evidence=example_evidence(legacy_view)
    )
    modern_view = await call_pos_workflow(both, "get_session", session_id=sid)

    assert legacy_view["current_phase"] == 2
    assert modern_view["session"]["current_phase"] == 3
    assert [(a["phase"], a["status"]) for a in modern_view["session"]["phase_history"]] == [
        (1, "passed"),
        (2, "passed"),
        (3, "in_progress"),
    ]


# ------------------------------------------------ create_workflow, validate_workflow


def _workflows_dir(project: Path) -> Path:
    return project / ".praxis-os" / "workflows"


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.slow
async def test_create_workflow_scaffolds_a_folder_that_loads_lists_validates_and_runs(
    both: Client, project: Path
) -> None:
    created = await _legacy(
        both,
        "create_workflow",
        workflow_type="code_review_v1",
        name="Code review",
        description="Review one module and record the findings.",
        category="quality",
        phases=3,
    )
    folder = _workflows_dir(project) / "code_review_v1"
    definition = load_definition(folder, "project")
    listed = await call_pos_workflow(both, "list_workflows", category="quality")
    validated = await _legacy(both, "validate_workflow", workflow_type="code_review_v1")
    by_path = await _legacy(both, "validate_workflow", path=".praxis-os/workflows/code_review_v1")
    started = await _legacy(
        both, "start_workflow", workflow_type="code_review_v1", target_file=TARGET
    )
    done = await _finish_with_legacy_tools(both, started["session_id"], project)

    assert created == {
        "status": "success",
        "action": "create_workflow",
        "created": True,
        "workflow_type": "code_review_v1",
        "folder": ".praxis-os/workflows/code_review_v1/",
        "files": [
            "metadata.json",
            "phases/1/phase.md",
            "phases/1/task-1-do-the-work.md",
            "phases/2/phase.md",
            "phases/2/task-1-do-the-work.md",
            "phases/3/phase.md",
            "phases/3/task-1-do-the-work.md",
        ],
        "total_phases": 3,
        "task_count": 3,
        "workflow": definition.summary(),
        "next_steps": created["next_steps"],
        "next_actions": ["list_workflows", "start"],
    }
    assert (definition.category, definition.format, definition.total_phases) == (
        "quality",
        "pos",
        3,
    )
    for phase in definition.phases:
        checkpoint = phase.checkpoint
        assert checkpoint.required_evidence and checkpoint.validation
        assert checkpoint.evidence_schema["type"] == "object"
        assert list(checkpoint.validator.iter_errors(checkpoint.evidence_example)) == []
        assert list(checkpoint.validator.iter_errors({})) != []
    assert [w["workflow_type"] for w in listed["workflows"]] == ["code_review_v1"]
    assert "invalid_workflows" not in listed
    assert {k: validated[k] for k in ("valid", "format", "counts", "problems", "source")} == {
        "valid": True,
        "format": "pos",
        "counts": {"phases": 3, "tasks": 3},
        "problems": [],
        "source": "project",
    }
    assert by_path == validated
    assert done["workflow_completed"] is True
    assert _entries(_workflows_dir(project)) == ["code_review_v1"]


@pytest.mark.slow
async def test_create_workflow_uses_category_custom_and_one_phase_by_default(
    legacy: Client, project: Path
) -> None:
    created = await _legacy(
        legacy, "create_workflow", workflow_type="tiny_v1", name="Tiny", description="One phase."
    )

    assert (created["workflow"]["category"], created["total_phases"]) == ("custom", 1)
    assert load_definition(_workflows_dir(project) / "tiny_v1", "project").start_phase == 1


@pytest.mark.slow
async def test_create_workflow_refuses_an_existing_folder_or_a_bundled_name(
    legacy: Client, project: Path
) -> None:
    args = {"name": "Again", "description": "Second time."}
    await _legacy(legacy, "create_workflow", workflow_type="twice_v1", **args)
    metadata = (_workflows_dir(project) / "twice_v1" / "metadata.json").read_bytes()

    again = await _legacy(legacy, "create_workflow", workflow_type="twice_v1", **args)
    bundled = await _legacy(legacy, "create_workflow", workflow_type=WORKFLOW, **args)

    assert (again["error_type"], again["action"]) == ("ConflictError", "create_workflow")
    assert "'twice_v1' already exists (.praxis-os/workflows/twice_v1/)" in again["error"]
    assert (bundled["error_type"], bundled["error"]) == (
        "ConflictError",
        f"workflow_type {WORKFLOW!r} already exists (bundled); "
        "create_workflow never overwrites a workflow",
    )
    assert (_workflows_dir(project) / "twice_v1" / "metadata.json").read_bytes() == metadata
    assert _entries(_workflows_dir(project)) == ["twice_v1"]


async def test_create_workflow_refuses_invalid_values_listing_every_one(
    legacy: Client, project: Path
) -> None:
    response = await _legacy(
        legacy,
        "create_workflow",
        workflow_type="../Bad-Name",
        name="two\nlines",
        description="   ",
        category="Not Valid",
        phases=0,
    )

    assert (response["status"], response["error_type"]) == ("error", "ValidationError")
    assert [p["parameter"] for p in response["details"]["invalid_parameters"]] == [
        "workflow_type",
        "name",
        "description",
        "category",
        "phases",
    ]
    assert response["error"].startswith(
        "workflow_type '../Bad-Name' is not a valid workflow type; "
    )
    assert (response["details"]["required"], response["details"]["optional"]) == (
        ["workflow_type", "name", "description"],
        ["category", "phases"],
    )
    assert response["remediation"].startswith("Call it like: create_workflow(")
    assert _entries(_workflows_dir(project)) == []


async def test_create_workflow_over_the_phase_limit_is_a_limit_error(
    legacy: Client, project: Path
) -> None:
    response = await _legacy(
        legacy, "create_workflow", workflow_type="huge_v1", name="Huge", description="x", phases=21
    )

    assert (response["error_type"], response["error"]) == (
        "LimitError",
        "phases is 21; create_workflow scaffolds 1 to 20 phases",
    )
    assert _entries(_workflows_dir(project)) == []


@pytest.mark.slow
async def test_a_create_workflow_that_fails_midway_leaves_no_half_workflow(
    legacy: Client, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[Path] = []
    real_write = legacy_module._write

    def write_then_fail(path: Path, text: str) -> None:
        if len(written) == 3:
            raise OSError(28, "No space left on device", str(path))
        written.append(path)
        real_write(path, text)

    monkeypatch.setattr(legacy_module, "_write", write_then_fail)

    response = await _legacy(
        legacy, "create_workflow", workflow_type="half_v1", name="Half", description="x", phases=2
    )
    listed = await _legacy(legacy, "validate_workflow", workflow_type="half_v1")

    assert (response["status"], response["error_type"]) == ("error", "InternalError")
    assert _leaks(response, project) == []
    assert len(written) == 3
    assert _entries(_workflows_dir(project)) == []
    assert listed["error_type"] == "NotFoundError"


@pytest.mark.slow
async def test_create_workflow_removes_staging_folders_a_crash_left_over_an_hour_ago(
    legacy: Client, project: Path
) -> None:
    old, fresh = _workflows_dir(project) / ".create-old", _workflows_dir(project) / ".create-new"
    for folder in (old, fresh):
        (folder / "half_v1").mkdir(parents=True)
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    await _legacy(legacy, "create_workflow", workflow_type="after_v1", name="A", description="x")

    assert _entries(_workflows_dir(project)) == [".create-new", "after_v1"]


@pytest.mark.slow
async def test_created_workflow_appears_in_list_workflows_of_a_server_started_after(
    legacy: Client, project: Path
) -> None:
    await _legacy(legacy, "create_workflow", workflow_type="later_v1", name="L", description="x")

    async with Client(_server(project, POST_CUTOVER)) as after:
        listed = await call_pos_workflow(after, "list_workflows")

    assert "later_v1" in [w["workflow_type"] for w in listed["workflows"]]


def _break(folder: Path, change: Any) -> None:
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    change(metadata)
    path.write_text(json.dumps(metadata), encoding="utf-8")


@pytest.mark.slow
async def test_validate_workflow_reports_a_broken_folder_with_field_names(
    legacy: Client, project: Path
) -> None:
    await _legacy(
        legacy, "create_workflow", workflow_type="broken_v1", name="B", description="x", phases=2
    )
    folder = _workflows_dir(project) / "broken_v1"

    def damage(metadata: dict[str, Any]) -> None:
        metadata["version"] = "one"
        del metadata["phases"][0]["title"]
        metadata["phases"][1]["checkpoint"]["validation"] = ""

    _break(folder, damage)

    report = await _legacy(legacy, "validate_workflow", workflow_type="broken_v1")

    assert report == {
        "status": "success",
        "action": "validate_workflow",
        "valid": False,
        "workflow_type": "broken_v1",
        "folder": ".praxis-os/workflows/broken_v1/",
        "source": "project",
        "format": "pos",
        "problems": [
            {
                "field": "/phases/0",
                "message": "metadata.json/phases/0: 'title' is a required property",
            },
            {
                "field": "/phases/1/checkpoint/validation",
                "message": "metadata.json/phases/1/checkpoint/validation: '' should be non-empty",
            },
            {
                "field": "/version",
                "message": "metadata.json/version: 'one' does not match '^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$'",
            },
        ],
        "problem_count": 3,
        "counts": {"phases": 2, "tasks": 2},
        "warnings": [],
        "next_actions": ["list_workflows"],
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "field"),
    [
        (
            lambda f: (f / "metadata.json").write_text("{not json", encoding="utf-8"),
            "metadata.json",
        ),
        (lambda f: (f / "metadata.json").unlink(), "metadata.json"),
        (
            lambda f: (f / "phases" / "1" / "task-1-do-the-work.md").write_text(
                "no title\n", encoding="utf-8"
            ),
            "phases[1].tasks[1].file",
        ),
        (
            lambda f: _break(f, lambda m: m["phases"][0]["checkpoint"].update(evidence_example={})),
            "phases[1].checkpoint.evidence_example",
        ),
        (lambda f: _break(f, lambda m: m.update(workflow_type="other_v1")), "/workflow_type"),
    ],
)
async def test_validate_workflow_names_the_field_of_each_kind_of_breakage(
    legacy: Client, project: Path, damage: Any, field: str
) -> None:
    await _legacy(legacy, "create_workflow", workflow_type="fragile_v1", name="F", description="x")
    damage(_workflows_dir(project) / "fragile_v1")

    report = await _legacy(legacy, "validate_workflow", path=".praxis-os/workflows/fragile_v1")

    assert (report["status"], report["valid"], report["problem_count"]) == ("success", False, 1)
    assert report["problems"][0]["field"] == field
    assert _leaks(report, project) == []


async def test_validate_workflow_reports_a_bundled_workflow_without_a_server_path(
    legacy: Client,
) -> None:
    report = await _legacy(legacy, "validate_workflow", workflow_type=WORKFLOW)

    assert report == {
        "status": "success",
        "action": "validate_workflow",
        "valid": True,
        "workflow_type": WORKFLOW,
        "folder": f"<bundled>/{WORKFLOW}/",
        "source": "bundled",
        "format": "pos",
        "problems": [],
        "problem_count": 0,
        "counts": {"phases": 5, "tasks": report["counts"]["tasks"]},
        "warnings": [],
        "next_actions": ["list_workflows", "start"],
    }
    assert report["counts"]["tasks"] >= 5
    assert sys.prefix not in json.dumps(report)


async def test_validate_workflow_reports_the_legacy_format_and_its_findings(
    legacy: Client, project: Path
) -> None:
    folder = _workflows_dir(project) / "old_flow_v1"
    (folder / "phases" / "0").mkdir(parents=True)
    metadata = {
        "workflow_type": "old_flow_v1",
        "version": "1.0.0",
        "name": "Old flow",
        "description": "A workflow in the legacy format.",
        "total_phases": 1,
        "start_phase": 0,
        "phases": [
            {
                "phase_number": 0,
                "phase_name": "Only",
                "purpose": "Do it.",
                "checkpoint": {"required_evidence": ["done"]},
                "tasks": [{"task_number": 1, "name": "do", "file": "task-1-do.md"}],
            }
        ],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    (folder / "phases" / "0" / "phase.md").write_text("# Phase 0\n\nDo it.\n", encoding="utf-8")
    (folder / "phases" / "0" / "task-1-do.md").write_text("# Task 1: Do\n\nDo.\n", encoding="utf-8")

    report = await _legacy(legacy, "validate_workflow", workflow_type="old_flow_v1")

    assert (report["valid"], report["format"], report["counts"]) == (
        True,
        "legacy",
        {"phases": 1, "tasks": 1},
    )
    assert report["warnings"] and {w["level"] for w in report["warnings"]} == {"WARN"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "error_type", "start"),
    [
        ({}, "ValidationError", "validate_workflow takes exactly one of workflow_type and path"),
        (
            {"workflow_type": WORKFLOW, "path": "x"},
            "ValidationError",
            "validate_workflow takes exactly one of workflow_type and path, not both",
        ),
        ({"workflow_type": "Nope!"}, "ValidationError", "workflow_type 'Nope!' is not a valid"),
        ({"workflow_type": "nothing_v9"}, "NotFoundError", "workflow_type 'nothing_v9' not found"),
    ],
)
async def test_validate_workflow_needs_exactly_one_existing_workflow(
    legacy: Client, arguments: dict[str, Any], error_type: str, start: str
) -> None:
    response = await _legacy(legacy, "validate_workflow", **arguments)

    assert (response["status"], response["action"], response["error_type"]) == (
        "error",
        "validate_workflow",
        error_type,
    )
    assert response["error"].startswith(start)
    assert response["remediation"]


# ------------------------------------------------------------ stdio end to end


def _stdio(project: Path) -> StdioServerParameters:
    return server_parameters(project, durable=False)


async def _names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


@pytest.mark.slow
async def test_over_stdio_a_pre_cutover_server_lists_and_runs_the_legacy_tools(
    project: Path,
) -> None:
    _write_registry(project, PRE_CUTOVER)

    async with Client(_stdio(project)) as client:
        names = await _names(client)
        created = await _legacy(
            client, "create_workflow", workflow_type="stdio_v1", name="S", description="x"
        )
        validated = await _legacy(client, "validate_workflow", workflow_type="stdio_v1")
        started = await _legacy(
            client, "start_workflow", workflow_type="stdio_v1", target_file=TARGET
        )
        done = await _finish_with_legacy_tools(client, started["session_id"], project)
        error = await _legacy(client, "get_task", session_id=started["session_id"])

    assert names == [*LEGACY_SEVEN, *SERVER_INFO]
    assert (created["created"], validated["valid"], done["workflow_completed"]) == (
        True,
        True,
        True,
    )
    assert (error["error_type"], error["details"]["missing_parameters"]) == (
        "ValidationError",
        ["phase", "task_number"],
    )


@pytest.mark.slow
async def test_over_stdio_a_session_survives_cutover_and_rollback(project: Path) -> None:
    steps: list[tuple[list[str], Iterable[str]]] = []

    _write_registry(project, PRE_CUTOVER)
    async with Client(_stdio(project)) as client:
        steps.append((PRE_CUTOVER, await _names(client)))
        started = await _legacy(
            client, "start_workflow", workflow_type=WORKFLOW, target_file=TARGET
        )
        sid = started["session_id"]
        await _legacy(
            client, "complete_phase", session_id=sid, phase=1, evidence=example_evidence(started)
        )

    _write_registry(project, POST_CUTOVER)
    async with Client(_stdio(project)) as client:
        steps.append((POST_CUTOVER, await _names(client)))
        current = await call_pos_workflow(client, "get_phase", session_id=sid)
        await call_pos_workflow(
            client, "complete_phase", session_id=sid, phase=2, evidence=example_evidence(current)
        )

    _write_registry(project, PRE_CUTOVER)  # the rollback
    async with Client(_stdio(project)) as client:
        steps.append((PRE_CUTOVER, await _names(client)))
        state = await _legacy(client, "get_workflow_state", session_id=sid)
        done = await _finish_with_legacy_tools(client, sid, project)

    assert [names for _, names in steps] == [
        [*LEGACY_SEVEN, *SERVER_INFO],
        ["pos_workflow", *SERVER_INFO],
        [*LEGACY_SEVEN, *SERVER_INFO],
    ]
    assert (state["current_phase"], state["completed_phases"]) == (3, [1, 2])
    assert done["workflow_completed"] is True
