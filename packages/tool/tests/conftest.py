"""Fixtures: a real server over a real engine in a temporary project, and an MCP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_tool import build_server
from pos_tool.testing import call_pos_workflow

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
