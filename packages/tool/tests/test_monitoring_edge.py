"""Metrics at the tool edge: every pos_workflow and legacy call, through the real MCP client."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_tool import Monitor, build_server, metrics_summary, monitor_of
from pos_tool.testing import FakeClock, call_pos_workflow

pytestmark = pytest.mark.anyio


def _by_label(summary: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {row["label"]: (row["calls"], row["errors"]) for row in summary["actions"]}


def _write_registry(project: Path, groups: list[str]) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "tool-registry.json").write_text(json.dumps({"version": 1, "groups": groups}))


@pytest.mark.slow
async def test_every_action_of_a_driven_workflow_is_recorded_with_its_latency(
    monitored_server: MCPServer,
    monitor: Monitor,
    project: Path,
    clock: FakeClock,
    drive_workflow: Any,
) -> None:
    async with Client(monitored_server) as client:
        actions = await drive_workflow(client)
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert _by_label(summary) == {action: (n, 0) for action, n in Counter(actions).items()}
    assert [row["action"] for row in summary["actions"]] == [
        "list_workflows",
        "start",
        "get_task",
        "complete_phase",
        "get_state",
    ]
    assert summary["total"]["calls"] == len(actions)
    assert all(row["p95_ms"] is not None for row in summary["actions"])
    assert summary["checkpoints"] == {"passed": Counter(actions)["complete_phase"], "failed": 0}


@pytest.mark.slow
async def test_errors_are_counted_by_action_and_error_type(
    monitored_server: MCPServer, project: Path, clock: FakeClock
) -> None:
    async with Client(monitored_server) as client:
        await call_pos_workflow(client, "get_state", session_id="no_such_session")
        await call_pos_workflow(client, "get_state", session_id="Not/An/Id")
        await call_pos_workflow(client, "list_workflows")
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert _by_label(summary) == {"list_workflows": (1, 0), "get_state": (2, 2)}
    assert summary["errors_by_type"] == {"NotFoundError": 1, "ValidationError": 1}
    assert summary["total"]["error_rate_percent"] == 66.67


async def test_an_unknown_action_is_recorded_as_unknown_not_as_the_clients_text(
    monitored_server: MCPServer, project: Path, clock: FakeClock
) -> None:
    async with Client(monitored_server) as client:
        for name in ("drop_tables", "x" * 500, None):
            await call_pos_workflow(client, name)
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert _by_label(summary) == {"unknown": (3, 3)}


@pytest.mark.slow
async def test_a_failed_checkpoint_counts_as_failed_and_as_an_error(
    monitored_server: MCPServer, project: Path, clock: FakeClock
) -> None:
    async with Client(monitored_server) as client:
        started = await call_pos_workflow(
            client, "start", workflow_type="test_generation_v3", target_file="src/calculator.py"
        )
        await call_pos_workflow(
            client, "complete_phase", session_id=started["session_id"], phase=1, evidence={}
        )
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert summary["checkpoints"] == {"passed": 0, "failed": 1}
    assert _by_label(summary)["complete_phase"] == (1, 1)


@pytest.mark.slow
async def test_legacy_tools_are_recorded_under_their_own_names(
    project: Path, monitor: Monitor, clock: FakeClock
) -> None:
    _write_registry(project, ["workflow_legacy", "workflow"])
    server = build_server(project, durable=False, monitor=monitor)

    async with Client(server) as client:
        started = await client.call_tool(
            "start_workflow",
            {"workflow_type": "test_generation_v3", "target_file": "src/calculator.py"},
        )
        sid = started.structured_content["session_id"]  # type: ignore[index]
        await client.call_tool("get_current_phase", {"session_id": sid})
        await client.call_tool("validate_workflow", {"workflow_type": "test_generation_v3"})
        await call_pos_workflow(client, "get_phase", session_id=sid)
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert [(r["tool"], r["action"], r["calls"]) for r in summary["actions"]] == [
        ("pos_workflow", "get_phase", 1),
        ("start_workflow", "start", 1),
        ("get_current_phase", "get_phase", 1),
        ("validate_workflow", "validate_workflow", 1),
    ]
    assert summary["actions"][1]["label"] == "start_workflow (legacy)"


@pytest.mark.slow
async def test_sessions_are_sampled_by_status_and_workflow_when_the_server_stops(
    monitored_server: MCPServer, project: Path, clock: FakeClock, drive_workflow: Any
) -> None:
    async with Client(monitored_server) as client:
        await drive_workflow(client)
        await call_pos_workflow(
            client, "start", workflow_type="spec_creation_v1", target_file="docs/spec.md"
        )
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert summary["sessions"]["by_status"] == {
        "active": 1,
        "paused": 0,
        "completed": 1,
        "failed": 0,
        "awaiting_approval": 0,
    }
    assert summary["sessions"]["by_workflow"] == {"spec_creation_v1": 1, "test_generation_v3": 1}


@pytest.mark.slow
async def test_get_server_info_reports_this_servers_monitoring(
    monitored_server: MCPServer, clock: FakeClock
) -> None:
    async with Client(monitored_server) as client:
        clock.advance(90)
        result = await client.call_tool("get_server_info", {})

    info = result.structured_content
    assert info is not None
    monitoring = info["monitoring"]
    assert monitoring == {
        "metrics_file": ".praxis-os/metrics/metrics.db",
        "storage_problem": None,
        "uptime_seconds": 90.0,
        "rss_mb": monitoring["rss_mb"],
        "alerts_firing": monitoring["alerts_firing"],
        "faults": None,
    }
    assert monitoring["rss_mb"] > 10


@pytest.mark.slow
async def test_a_server_built_with_metrics_off_records_nothing_and_reports_null(
    project: Path,
) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True)
    (config / "monitoring.json").write_text('{"version": 1, "enabled": false}')
    server = build_server(project, durable=False)

    async with Client(server) as client:
        await call_pos_workflow(client, "list_workflows")
        info = (await client.call_tool("get_server_info", {})).structured_content

    assert (monitor_of(server), info["monitoring"]) == (None, None)  # type: ignore[index]
    assert not (project / ".praxis-os" / "metrics").exists()
    assert metrics_summary(project) is None
