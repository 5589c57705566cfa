"""Fixtures: a real server over a real engine in a temporary project, and an MCP client."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_tool import Monitor, MonitoringConfig, build_server
from pos_tool.testing import FakeClock, call_pos_workflow, example_evidence

Call = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def make_project(root: Path) -> Path:
    """Create a project folder with a small module to work on."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "calculator.py").write_text(
        "def add(a, b):\n    return a + b\n", encoding="utf-8"
    )
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def server(project: Path) -> MCPServer:
    return build_server(project, durable=False)


@pytest.fixture
async def client(server: MCPServer) -> AsyncIterator[Client]:
    async with Client(server) as connected:
        yield connected


@pytest.fixture
def call(client: Client) -> Call:
    """``await call("start", workflow_type=..., ...)``: pos_workflow through the in-process client."""

    async def run(action: str | None = None, **arguments: Any) -> dict[str, Any]:
        return await call_pos_workflow(client, action, **arguments)

    return run


@contextmanager
def serving(make_app: Callable[[int], Any]) -> Iterator[int]:
    """Serve ``make_app(port)`` with uvicorn on a free 127.0.0.1 port in a thread; yield the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(port), log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def serve_app() -> Callable[[Callable[[int], Any]], Any]:
    """``with serve_app(lambda port: app) as port``: the app on 127.0.0.1 in a thread."""
    return serving


@pytest.fixture
def blob_workflow(project: Path) -> str:
    """Install a one-phase project workflow whose checkpoint takes a free-form ``blob`` string."""
    folder = project / ".praxis-os" / "workflows" / "blob_upload_v1"
    (folder / "phases" / "1").mkdir(parents=True)
    metadata = {
        "workflow_type": "blob_upload_v1",
        "version": "1.0.0",
        "name": "Blob upload",
        "description": "One phase that accepts a large free-form blob as evidence.",
        "category": "testing",
        "start_phase": 1,
        "phases": [
            {
                "number": 1,
                "title": "Upload",
                "purpose": "Submit the blob.",
                "tasks": [{"number": 1, "name": "send-blob", "file": "task-1-send-blob.md"}],
                "checkpoint": {
                    "required_evidence": ["blob"],
                    "evidence_schema": {
                        "type": "object",
                        "properties": {"blob": {"type": "string"}},
                    },
                    "validation": "blob is a string.",
                    "evidence_example": {"blob": "x"},
                },
            }
        ],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    (folder / "phases" / "1" / "phase.md").write_text(
        "# Phase 1: Upload\n\nSend the blob.\n", encoding="utf-8"
    )
    (folder / "phases" / "1" / "task-1-send-blob.md").write_text(
        "# Task 1: Send the blob\n\n**Estimated duration:** 1 minute\n\nSend it.\n\n"
        "## Execution steps\n\n### Step 1: Send\nCommand: none\nExpected output: Nothing.\n\n"
        "## Artifacts to produce\n\n- `blob`: The blob.\n",
        encoding="utf-8",
    )
    return "blob_upload_v1"


# ---------------------------------------------------------------- monitoring

MakeMonitor = Callable[..., Monitor]
Drive = Callable[..., Awaitable[list[str]]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_monitor(project: Path, clock: FakeClock) -> MakeMonitor:
    """``make_monitor(config=None)``: a monitor on the project that ticks only when told."""

    def make(config: MonitoringConfig | None = None, root: Path | None = None) -> Monitor:
        return Monitor(root or project, config=config, clock=clock, background=False)

    return make


@pytest.fixture
def monitor(make_monitor: MakeMonitor) -> Monitor:
    return make_monitor()


@pytest.fixture
def monitored_server(project: Path, monitor: Monitor) -> MCPServer:
    return build_server(project, durable=False, monitor=monitor)


async def _drive_workflow(
    client: Client, project: Path, workflow_type: str = "test_generation_v3"
) -> list[str]:
    actions = ["list_workflows"]
    await call_pos_workflow(client, "list_workflows")
    answer = await call_pos_workflow(
        client, "start", workflow_type=workflow_type, target_file="src/calculator.py"
    )
    actions.append("start")
    sid = answer["session_id"]
    while answer.get("phase_content"):
        phase = answer["phase_content"]["phase"]
        for task in answer["phase_content"]["tasks"]:
            await call_pos_workflow(
                client, "get_task", session_id=sid, phase=phase, task_number=task["task_number"]
            )
            actions.append("get_task")
        answer = await call_pos_workflow(
            client,
            "complete_phase",
            session_id=sid,
            phase=phase,
            evidence=example_evidence(answer, project),
        )
        actions.append("complete_phase")
        assert answer["status"] == "success", answer
    await call_pos_workflow(client, "get_state", session_id=sid)
    actions.append("get_state")
    return actions


@pytest.fixture
def drive_workflow(project: Path) -> Drive:
    """``await drive_workflow(client)``: list, start, every task and checkpoint, get_state.

    The files the checkpoints' examples name are written into ``project`` first, as an
    agent writes its files before claiming them. Returns the actions called, in order.
    """

    async def drive(client: Client, workflow_type: str = "test_generation_v3") -> list[str]:
        return await _drive_workflow(client, project, workflow_type)

    return drive
