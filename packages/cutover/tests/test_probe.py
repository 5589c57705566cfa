"""Probing pos_workflow and starting the canary on a live server, including what goes wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_cutover import ActionResult, Latency, LiveServer, ServerLauncher, Verification, connect
from pos_cutover._canary import start_canary
from pos_cutover._probe import (
    complete_workflow,
    continue_session,
    remove_probe_sessions,
    smoke_actions,
)
from pos_cutover._probe_work import ProbeWork
from pos_cutover._report import _group_lines
from pos_engine import FileSessionStore
from pos_tool import ACTIONS

pytestmark = pytest.mark.anyio


async def test_probes_report_what_failed_instead_of_raising(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    async with connect(tmp_path, launcher, durable=False) as server:
        smoke = await smoke_actions(server, "t", workflow_type="no_such_workflow")
        timings: dict[str, list[float]] = {}
        unknown = await complete_workflow(server, "no_such_workflow", "x", "t", timings)
        missing = await continue_session(server, "test_generation_v3_x_py_20250101_000000_000000")
        work = ProbeWork(tmp_path, "t")
        done = await complete_workflow(
            server, "test_generation_v3", "done", "t", timings, work=work
        )
        again = await continue_session(server, done.session_id)
        work.remove()

    by_action = {r.action: r for r in smoke}
    assert by_action["list_workflows"].detail.startswith(
        "workflow 'no_such_workflow' is not listed"
    )
    assert by_action["start"].detail.startswith("expected success, got")
    assert by_action["pause"].detail == "not reached: start failed"
    assert by_action["list_sessions"].ok
    assert (unknown.ok, unknown.detail.startswith("start failed:")) == (False, True)
    assert (missing.ok, missing.detail.startswith("get_phase failed:")) == (False, True)
    assert (done.ok, done.phases_completed, again.ok, again.calls) == (True, 5, True, 2)
    assert len(timings["start"]) == 2
    assert len(timings["complete_phase"]) == 5
    store = FileSessionStore.from_project(tmp_path)
    assert remove_probe_sessions(store, run_ids=["another-project's-run"]) == []
    assert remove_probe_sessions(store, run_ids=["t"]) == [done.session_id]
    assert remove_probe_sessions(store) == []


async def test_the_canary_starts_through_pos_workflow_when_no_old_tool_exists(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    async with connect(tmp_path, launcher, durable=False) as server:
        tools = await server.tool_names()
        through_new = await start_canary(server, tools, ("no_such_workflow",))
        nothing = await start_canary(server, ["get_server_info"], ())
        refused = await start_canary(server, ["start_workflow"], ())

    assert (through_new["tool"], through_new["workflow_type"], through_new["advanced_phases"]) == (
        "pos_workflow",
        "test_generation_v3",
        0,
    )
    assert nothing == {
        "session_id": None,
        "reason": "the current surface has no tool that starts a session",
    }
    assert refused["session_id"] is None
    assert refused["reason"].startswith(
        "start_workflow could not start a session (test_generation_v3: Unknown tool"
    )


def test_a_latency_is_ok_only_under_its_target_and_with_samples() -> None:
    assert Latency("start", [10.0, 20.0, 30.0], 25.0).to_dict() == {
        "action": "start",
        "samples": 3,
        "p95_ms": 30.0,
        "median_ms": 20.0,
        "target_ms": 25.0,
        "ok": False,
    }
    assert Latency("start", [], 25.0).to_dict()["p95_ms"] is None
    assert not Latency("start", [], 25.0).ok


def _impostor() -> MCPServer:
    """A server with a tool named pos_workflow that says success to everything, and nothing else."""
    server = MCPServer("impostor")

    @server.tool()
    def pos_workflow(action: str, session_id: str | None = None) -> dict[str, Any]:
        return {"status": "success"}

    return server


async def test_an_action_passes_only_when_pos_workflow_was_called_and_answered_it() -> None:
    async with Client(_impostor()) as client:
        smoke = await smoke_actions(LiveServer(client, ServerLauncher()), "t", "test_generation_v3")

    by_action = {r.action: r for r in smoke}
    assert [r.ok for r in smoke] == [False] * 14
    assert by_action["list_workflows"].detail.startswith(
        "no answer from pos_workflow's list_workflows"
    )
    assert by_action["start"].detail.startswith("no answer from pos_workflow's start")
    assert by_action["pause"].detail == "not reached: start failed"
    assert by_action["list_sessions"].calls == 1


def test_a_verification_missing_an_action_is_not_reported_as_all_tested(tmp_path: Path) -> None:
    actions = [ActionResult(name, spec.group, ok=True, calls=1) for name, spec in ACTIONS.items()]
    actions[3] = ActionResult(actions[3].action, actions[3].group, ok=True, calls=0)
    verification = Verification(ok=True, actions=actions[:-1])

    lines, verdict = _group_lines(verification)

    assert lines[0] == "- [ ] All 14 actions tested ❌"
    assert verdict == {"discovery": True, "execution": False, "management": True, "recovery": False}
