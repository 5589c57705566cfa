"""Streamable HTTP on 127.0.0.1: the SDK's HTTP client against uvicorn serving our app."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from pos_engine.guards import MAX_EVIDENCE_BYTES
from pos_tool import HTTP_PATH, MAX_HTTP_BODY_BYTES, build_http_app, build_server
from pos_tool.testing import call_pos_workflow, example_evidence

pytestmark = pytest.mark.anyio


def _evidence_of_size(size: int) -> dict[str, str]:
    """Evidence whose compact JSON is exactly ``size`` bytes."""
    return {"blob": "x" * (size - len('{"blob":""}'))}


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def http_port(project: Path, blob_workflow: str, serve_app: Any) -> Iterator[int]:
    """Serve the project's server over streamable HTTP in a background thread; yield the port."""
    server = build_server(project, durable=False)
    with serve_app(lambda port: build_http_app(server, host="127.0.0.1", port=port)) as port:
        yield port


@pytest.fixture
async def http_client(http_port: int) -> AsyncIterator[Client]:
    async with Client(f"http://127.0.0.1:{http_port}{HTTP_PATH}") as client:
        yield client


def _raw_post(port: int, headers: dict[str, str], body: bytes = b"{}") -> int:
    """POST ``body`` to the MCP endpoint with exactly ``headers``; return the HTTP status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("POST", HTTP_PATH, skip_host=True, skip_accept_encoding=True)
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **headers,
        }.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


def _initialize(port: int) -> tuple[int, str, dict[str, object]]:
    """Send an initialize request; return the status, the content type and the JSON body."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        }
    ).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            HTTP_PATH,
            body,
            {
                "Host": f"127.0.0.1:{port}",
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
            },
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), json.loads(response.read())
    finally:
        connection.close()


async def test_a_request_is_answered_with_one_json_body_not_an_event_stream(
    http_port: int,
) -> None:
    status, content_type, answer = await anyio.to_thread.run_sync(_initialize, http_port)

    assert (status, content_type.split(";")[0], answer["id"]) == (200, "application/json", 1)


def test_the_body_limit_leaves_room_for_the_largest_evidence_and_its_envelope() -> None:
    assert MAX_HTTP_BODY_BYTES - MAX_EVIDENCE_BYTES >= 1024 * 1024


@pytest.mark.slow
async def test_a_workflow_session_runs_over_http(http_client: Client) -> None:
    started = await call_pos_workflow(
        http_client, "start", workflow_type="test_gen_v3", target_file="src/a.py"
    )
    done = await call_pos_workflow(
        http_client,
        "complete_phase",
        session_id=started["session_id"],
        phase=1,
        evidence=example_evidence(started),
    )
    state = await call_pos_workflow(http_client, "get_state", session_id=started["session_id"])

    assert (done["status"], done["next_phase"]) == ("success", 2)
    assert (state["current_phase"], state["completed_phases"]) == (2, [1])


@pytest.mark.slow
async def test_evidence_of_exactly_10_mb_is_accepted_over_http(
    http_client: Client, blob_workflow: str
) -> None:
    started = await call_pos_workflow(
        http_client, "start", workflow_type=blob_workflow, target_file="blob.bin"
    )
    evidence = _evidence_of_size(MAX_EVIDENCE_BYTES)
    assert len(json.dumps(evidence, separators=(",", ":")).encode()) == MAX_EVIDENCE_BYTES

    result = await call_pos_workflow(
        http_client, "complete_phase", session_id=started["session_id"], phase=1, evidence=evidence
    )

    assert (result["status"], result["checkpoint_passed"], result["workflow_completed"]) == (
        "success",
        True,
        True,
    )


@pytest.mark.slow
async def test_a_response_carrying_a_10_mb_artifact_reaches_the_default_http_client(
    http_client: Client, blob_workflow: str
) -> None:
    started = await call_pos_workflow(
        http_client, "start", workflow_type=blob_workflow, target_file="blob.bin"
    )
    sid = started["session_id"]
    evidence = _evidence_of_size(MAX_EVIDENCE_BYTES)
    await call_pos_workflow(
        http_client, "complete_phase", session_id=sid, phase=1, evidence=evidence
    )

    state = await call_pos_workflow(http_client, "get_state", session_id=sid)

    assert state["artifacts"] == {"1": evidence}


@pytest.mark.slow
async def test_evidence_over_10_mb_gets_the_tools_limit_error_not_a_413(
    http_client: Client, blob_workflow: str
) -> None:
    started = await call_pos_workflow(
        http_client, "start", workflow_type=blob_workflow, target_file="blob.bin"
    )
    evidence = _evidence_of_size(11 * 1024 * 1024)

    result = await call_pos_workflow(
        http_client, "complete_phase", session_id=started["session_id"], phase=1, evidence=evidence
    )

    assert (result["status"], result["error_type"]) == ("error", "LimitError")
    assert result["error"].startswith("evidence is too large: 11.00 MB")


async def test_a_body_over_the_http_limit_is_refused_by_the_transport(http_port: int) -> None:
    body = b" " * (MAX_HTTP_BODY_BYTES + 1)
    headers = {"Host": f"127.0.0.1:{http_port}", "Accept": "application/json, text/event-stream"}

    status = await anyio.to_thread.run_sync(_raw_post, http_port, headers, body)

    assert status == 413


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Host": "evil.example:{port}"}, 421),
        ({"Host": "127.0.0.1:1"}, 421),
        ({"Host": "127.0.0.1:{port}", "Origin": "http://evil.example:{port}"}, 403),
        ({"Host": "localhost:{port}", "Origin": "http://localhost:1"}, 403),
    ],
)
async def test_dns_rebinding_protection_refuses_foreign_hosts_and_origins(
    http_port: int, headers: dict[str, str], expected: int
) -> None:
    filled = {name: value.format(port=http_port) for name, value in headers.items()}
    filled["Accept"] = "application/json, text/event-stream"

    status = await anyio.to_thread.run_sync(_raw_post, http_port, filled)

    assert status == expected


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
async def test_loopback_host_and_origin_on_our_port_are_allowed(http_port: int, name: str) -> None:
    headers = {
        "Host": f"{name}:{http_port}",
        "Origin": f"http://{name}:{http_port}",
        "Accept": "application/json, text/event-stream",
    }
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()

    status = await anyio.to_thread.run_sync(_raw_post, http_port, headers, body)

    assert status not in (403, 413, 421)


@pytest.mark.slow
async def test_the_cli_serves_streamable_http(project: Path) -> None:
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()
    command = [
        sys.executable,
        "-m",
        "pos_tool",
        "serve",
        "--transport",
        "http",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        [*command, "--project-root", str(project), "--log-level", "WARNING", "--no-fsync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        result: Any = None
        for _ in range(200):
            try:
                async with Client(f"http://127.0.0.1:{port}{HTTP_PATH}") as client:
                    result = await call_pos_workflow(client, "list_workflows")
                break
            except Exception:
                await anyio.sleep(0.05)
        assert result is not None and result["status"] == "success"
    finally:
        process.terminate()
        stdout, _ = process.communicate(timeout=10)
    assert stdout == b""  # logs go to stderr only
