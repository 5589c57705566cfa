"""Using the package from Python: dispatch without MCP, the demo driver, HTTP security settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pos_engine import WorkflowEngine
from pos_tool import Backends, dispatch
from pos_tool._demo import run_demo
from pos_tool._server import _security


@pytest.mark.slow
@pytest.mark.anyio
async def test_dispatch_runs_an_action_without_any_mcp_transport(project: Path) -> None:
    engine = WorkflowEngine.for_project(project, durable=False)
    backends = Backends(engine, engine.state_manager)

    started = await dispatch(
        backends, {"action": "start", "workflow_type": "test_gen_v3", "target_file": "a.py"}
    )
    unknown = await dispatch(backends, {"action": "list_sessions"}, sent=["action", "colour"])

    assert (started["status"], started["current_phase"]) == ("success", 1)
    assert unknown["error"] == "unknown argument 'colour': pos_workflow has no such parameter"


@pytest.mark.slow
@pytest.mark.anyio
async def test_run_demo_completes_the_workflow_and_prints_one_line_per_call(tmp_path: Path) -> None:
    lines: list[str] = []

    state = await run_demo(tmp_path / "demo", "test_generation_v3", lines.append)

    assert (state["session_status"], state["completed_phases"]) == ("completed", [1, 2, 3, 4, 5])
    assert lines[-1].startswith("test_generation_v3 completed: phases [1, 2, 3, 4, 5] in 24 calls")
    assert sum(line.startswith("complete_phase") for line in lines) == 5


def test_http_security_allows_loopback_names_on_the_served_port_only() -> None:
    loopback = _security("127.0.0.1", 8765)
    named = _security("mcp.internal", 9000)
    wildcard = _security("0.0.0.0", 8765)  # noqa: S104 - a value under test, nothing is bound

    assert loopback.enable_dns_rebinding_protection is True
    assert loopback.allowed_hosts == ["127.0.0.1:8765", "localhost:8765"]
    assert loopback.allowed_origins == ["http://127.0.0.1:8765", "http://localhost:8765"]
    assert named.allowed_hosts == ["127.0.0.1:9000", "localhost:9000", "mcp.internal:9000"]
    assert wildcard.allowed_hosts == loopback.allowed_hosts
