"""The tool registry file, the tool groups it selects, and the server_info tools."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_tool import (
    DEFAULT_GROUPS,
    REGISTRY_FILE,
    TOOL_GROUPS,
    RegistryError,
    ServerParts,
    ToolGroup,
    build_server,
    load_tool_registry,
    registry_schema,
)

REPO = Path(__file__).resolve().parents[3]


def _write_registry(project: Path, content: Any) -> None:
    path = project / REGISTRY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")


async def _tool_names(server: MCPServer) -> list[str]:
    async with Client(server) as client:
        return [tool.name for tool in (await client.list_tools()).tools]


def _registry_error(project: Path) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        build_server(project, durable=False)
    error = caught.value
    assert error.message.startswith(".praxis-os/config/tool-registry.json: ")
    assert str(project) not in error.message and str(project) not in error.remediation
    return error


# --------------------------------------------------------------- the schema


def test_the_packaged_schema_equals_the_spec_byte_for_byte() -> None:
    packaged = (
        resources.files("pos_tool").joinpath("schemas/tool-registry.schema.json").read_bytes()
    )

    assert packaged == (REPO / "specs" / "tool-registry.schema.json").read_bytes()


def test_the_schema_is_a_valid_2020_12_schema_with_version_1_and_groups() -> None:
    schema = registry_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version", "groups"]
    assert schema["properties"]["version"] == {
        "description": "Format version of this file.",
        "const": 1,
    }


def test_the_schema_accepts_every_known_group_and_the_default_surface() -> None:
    validator = Draft202012Validator(registry_schema())

    validator.validate(
        {
            "$schema": "../../specs/tool-registry.schema.json",
            "version": 1,
            "groups": list(TOOL_GROUPS),
        }
    )
    validator.validate(
        {"version": 1, "groups": list(DEFAULT_GROUPS), "description": "post-cutover"}
    )


# ---------------------------------------------------------------- variants


def test_without_a_registry_file_the_default_groups_are_used(project: Path) -> None:
    registry = load_tool_registry(project)

    assert (registry.groups, registry.source) == (("workflow", "server_info"), "default")
    assert registry.tools == ("pos_workflow", "get_server_info", "current_date")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("groups", "tools"),
    [
        (["workflow"], ["pos_workflow"]),
        (["server_info"], ["get_server_info", "current_date"]),
        (["server_info", "workflow"], ["get_server_info", "current_date", "pos_workflow"]),
    ],
)
async def test_a_registry_file_selects_the_groups_that_are_registered(
    project: Path, groups: list[str], tools: list[str]
) -> None:
    _write_registry(project, {"version": 1, "groups": groups, "description": "test"})

    assert await _tool_names(build_server(project, durable=False)) == tools


@pytest.mark.anyio
async def test_adding_a_group_is_one_entry_in_the_group_table(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def register(mcp: MCPServer, parts: ServerParts) -> None:
        def legacy_ping() -> str:
            """Answer pong."""
            return "pong"

        mcp.add_tool(legacy_ping)
        parts.tools.append("legacy_ping")

    monkeypatch.setitem(
        TOOL_GROUPS,
        "workflow_legacy",
        ToolGroup("workflow_legacy", "old", ("legacy_ping",), register),
    )
    _write_registry(project, {"version": 1, "groups": ["workflow", "workflow_legacy"]})

    assert await _tool_names(build_server(project, durable=False)) == [
        "pos_workflow",
        "legacy_ping",
    ]


def test_a_registry_file_that_is_not_json_stops_start_up(project: Path) -> None:
    _write_registry(project, '{"version": 1, "groups": ["workflow",]}')

    error = _registry_error(project)

    assert error.message == (
        ".praxis-os/config/tool-registry.json: is not valid JSON (line 1, column 38): Expecting value"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"groups": ["workflow"]}, "(top level): 'version' is a required property"),
        ({"version": 2, "groups": ["workflow"]}, "/version: 1 was expected"),
        ({"version": 1, "groups": "workflow"}, "/groups: 'workflow' is not of type 'array'"),
        ({"version": 1, "groups": []}, "/groups: [] should be non-empty"),
        (
            {"version": 1, "groups": ["workflow", "workflow"]},
            "/groups: ['workflow', 'workflow'] has non-unique",
        ),
        ({"version": 1, "groups": [7]}, "/groups/0: 7 is not of type 'string'"),
        (
            {"version": 1, "groups": ["workflow"], "tools": []},
            "Additional properties are not allowed ('tools'",
        ),
        ([], "(top level): [] is not of type 'object'"),
    ],
)
def test_a_registry_file_off_schema_stops_start_up_naming_the_problem(
    project: Path, content: Any, problem: str
) -> None:
    _write_registry(project, content)

    error = _registry_error(project)

    assert "does not match specs/tool-registry.schema.json: " in error.message
    assert problem in error.message


def test_a_registry_file_naming_an_unknown_group_stops_start_up(project: Path) -> None:
    _write_registry(project, {"version": 1, "groups": ["workflow", "telepathy"]})

    error = _registry_error(project)

    assert error.message == (
        ".praxis-os/config/tool-registry.json: names unknown group 'telepathy'; "
        "known groups: server_info, workflow, workflow_legacy"
    )
    assert error.error_type == "ValidationError"


def test_an_unreadable_registry_file_stops_start_up_without_an_absolute_path(project: Path) -> None:
    (project / REGISTRY_FILE).mkdir(parents=True)

    error = _registry_error(project)

    assert error.message == (
        ".praxis-os/config/tool-registry.json: is not a regular file (a FIFO, device or folder)"
    )


def test_a_bad_registry_file_is_reported_before_any_session_folder_is_created(
    project: Path,
) -> None:
    _write_registry(project, "not json")

    _registry_error(project)

    assert not (project / ".praxis-os" / "state").exists()


# ---------------------------------------------------------------- server_info


@pytest.mark.slow
@pytest.mark.anyio
async def test_get_server_info_reports_tools_workflows_store_and_sessions(
    client: Client, call: Any
) -> None:
    started = await call(
        "start", workflow_type="test_generation_v3", target_file="src/calculator.py"
    )
    await call("start", workflow_type="test_generation_v3", target_file="src/calculator.py")
    await call("pause", session_id=started["session_id"])

    result = await client.call_tool("get_server_info", {})

    info = result.structured_content
    assert not result.is_error and info is not None
    assert info == {
        "server": "pos-workflow",
        "version": info["version"],
        "engine_version": info["engine_version"],
        "project": "project",
        "tools": ["pos_workflow", "get_server_info", "current_date"],
        "tool_groups": ["workflow", "server_info"],
        "registry": "default",
        "workflow_count": (await call("list_workflows"))["count"],
        "store": "file",
        "sessions": {
            "active": 1,
            "paused": 1,
            "completed": 0,
            "failed": 0,
            "awaiting_approval": 0,
        },
        "monitoring": info["monitoring"],
    }
    assert info["version"].count(".") >= 2
    assert (info["monitoring"]["metrics_file"], info["monitoring"]["faults"]) == (
        ".praxis-os/metrics/metrics.db",
        None,
    )


@pytest.mark.slow
@pytest.mark.anyio
async def test_get_server_info_names_the_registry_file_it_was_built_from(project: Path) -> None:
    _write_registry(project, {"version": 1, "groups": ["server_info"]})

    async with Client(build_server(project, durable=False)) as client:
        info = (await client.call_tool("get_server_info", {})).structured_content

    assert info is not None
    assert (info["registry"], info["tools"], info["tool_groups"]) == (
        REGISTRY_FILE,
        ["get_server_info", "current_date"],
        ["server_info"],
    )


@pytest.mark.anyio
async def test_current_date_returns_utc_iso_and_the_local_date(client: Client) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = await client.call_tool("current_date", {})
    after = datetime.now(UTC)

    now = result.structured_content
    assert now is not None
    utc = datetime.fromisoformat(now["utc_datetime"])
    assert utc.utcoffset() == timedelta(0)
    assert before <= utc <= after
    assert now["utc_date"] == utc.date().isoformat()
    local = datetime.fromisoformat(now["local_datetime"])
    assert date.fromisoformat(now["local_date"]) == local.date()
    assert local == utc
    assert now["weekday"] == local.strftime("%A")


def test_a_registry_file_that_is_not_utf8_stops_start_up(project: Path) -> None:
    (project / REGISTRY_FILE).parent.mkdir(parents=True)
    (project / REGISTRY_FILE).write_bytes(b'{"version": 1, "groups": ["\xff"]}')

    error = _registry_error(project)

    assert error.message == ".praxis-os/config/tool-registry.json: is not UTF-8 text (byte 27)"
