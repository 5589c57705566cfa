"""What an MCP client sees in tools/list: one tool, its schema, description, annotations and size."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_engine import WorkflowEngine
from pos_tool import ACTIONS, PARAMETERS, VALID_ACTIONS, register_workflow_tools, tool_description

pytestmark = pytest.mark.anyio

MAX_DESCRIPTION_BYTES = 3 * 1024
MAX_TOOL_BYTES = 6 * 1024
MAX_TOOLS_LIST_BYTES = 15 * 1024


def _wire(model: Any) -> str:
    """The JSON a client receives for ``model`` (camelCase keys, no nulls)."""
    return json.dumps(
        model.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":")
    )


async def _pos_workflow(client: Client) -> Any:
    tools = (await client.list_tools()).tools
    return next(tool for tool in tools if tool.name == "pos_workflow")


async def test_register_workflow_tools_registers_exactly_one_tool(project: Path) -> None:
    mcp: MCPServer = MCPServer("bare")
    engine = WorkflowEngine.for_project(project, durable=False)

    count = register_workflow_tools(mcp, engine, engine.state_manager)

    async with Client(mcp) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert count == 1
    assert names == ["pos_workflow"]


async def test_the_default_server_lists_pos_workflow_and_the_server_info_tools(
    client: Client,
) -> None:
    names = [tool.name for tool in (await client.list_tools()).tools]
    assert names == ["pos_workflow", "get_server_info", "current_date"]


async def test_action_is_a_required_enum_of_the_14_actions(client: Client) -> None:
    schema = (await _pos_workflow(client)).input_schema

    assert schema["required"] == ["action"]
    assert schema["properties"]["action"]["type"] == "string"
    assert schema["properties"]["action"]["enum"] == list(VALID_ACTIONS)
    assert len(VALID_ACTIONS) == 14


async def test_every_parameter_is_listed_in_order_with_its_type_and_a_description(
    client: Client,
) -> None:
    properties = (await _pos_workflow(client)).input_schema["properties"]

    assert list(properties) == list(PARAMETERS)
    for name, spec in PARAMETERS.items():
        expected = spec.kind
        assert properties[name]["type"] == expected, name
        assert len(properties[name]["description"]) > 10, name
    assert properties["status"]["enum"] == [
        "active",
        "paused",
        "completed",
        "failed",
        "awaiting_approval",
    ]


async def test_the_description_documents_every_action_by_group_with_an_example(
    client: Client,
) -> None:
    description = (await _pos_workflow(client)).description

    assert description == tool_description()
    headers = [
        line for line in description.splitlines() if line.endswith(":") and not line.startswith("-")
    ]
    assert headers == ["Discovery:", "Execution:", "Management:", "Recovery:"]
    for name in VALID_ACTIONS:
        lines = [line for line in description.splitlines() if line.startswith(f"- {name}(")]
        assert len(lines) == 1, name
        example = json.loads(re.search(r"\{.*\}$", lines[0]).group(0))  # type: ignore[union-attr]
        assert example["action"] == name
        assert set(example) - {"action"} <= set(ACTIONS[name].parameters)


async def test_the_output_schema_is_an_object_requiring_status_and_action(client: Client) -> None:
    schema = (await _pos_workflow(client)).output_schema

    assert schema["type"] == "object"
    assert schema["required"] == ["status", "action"]
    assert schema["properties"]["status"]["enum"] == ["success", "error"]
    assert schema["additionalProperties"] is True


async def test_annotations_say_the_tool_writes_may_destroy_is_not_idempotent_and_is_closed_world(
    client: Client,
) -> None:
    annotations = (await _pos_workflow(client)).annotations

    assert annotations is not None
    assert (
        annotations.read_only_hint,
        annotations.destructive_hint,
        annotations.idempotent_hint,
        annotations.open_world_hint,
    ) == (False, True, False, False)


async def test_description_tool_definition_and_tools_list_stay_within_their_byte_budgets(
    client: Client,
) -> None:
    listing = await client.list_tools()
    tool = await _pos_workflow(client)

    description_bytes = len(tool.description.encode())
    tool_bytes = len(_wire(tool).encode())
    list_bytes = len(_wire(listing).encode())

    print(
        f"description {description_bytes} B, pos_workflow definition {tool_bytes} B, tools/list {list_bytes} B"
    )
    assert description_bytes < MAX_DESCRIPTION_BYTES
    assert tool_bytes < MAX_TOOL_BYTES
    assert list_bytes < MAX_TOOLS_LIST_BYTES
