"""The HTTP transport on a network: tokens, session floods, slow clients, exposure.

uvicorn serves the real app (with the guarded h11 protocol) in a thread; clients are the
MCP SDK's streamable HTTP client and raw sockets for what no well-behaved client sends.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pos_tool import HTTP_PATH, build_server
from pos_tool._http import GuardedH11Protocol, HttpLimits, StaticTokenVerifier, load_tokens
from pos_tool._server import build_http_app
from pos_tool.exceptions import ServerConfigError
from pos_tool.testing import call_pos_workflow

pytestmark = pytest.mark.anyio

TOKEN = "t0ken-for-tests-" + "x" * 16
OTHER = "another-token-for-tests-" + "y" * 8


@dataclass
class Served:
    port: int
    limits: HttpLimits

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HTTP_PATH}"


def serve(project: Path, limits: HttpLimits, tokens: dict[str, str] | None) -> Iterator[Served]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    verifier = StaticTokenVerifier(tokens) if tokens else None
    app = build_http_app(
        build_server(project, durable=False), port=port, verifier=verifier, limits=limits
    )
    config = uvicorn.Config(
        app, log_level="warning", log_config=None, http=GuardedH11Protocol.configured(limits)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        yield Served(port, limits)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def open_server(project: Path) -> Iterator[Served]:
    limits = HttpLimits(max_sessions=8, max_sessions_per_client=4, header_timeout=0.5)
    yield from serve(project, limits, None)


@pytest.fixture
def authed_server(project: Path) -> Iterator[Served]:
    yield from serve(project, HttpLimits(), {TOKEN: "alice", OTHER: "bob"})


def client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)))


def initialize(port: int, token: str | None = None) -> tuple[int, str | None]:
    """Open an MCP session with a raw POST; return the status and the session id."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "flood", "version": "1"},
            },
        }
    )
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("POST", HTTP_PATH, body, headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("mcp-session-id")
    finally:
        connection.close()


@pytest.mark.slow
async def test_a_flood_of_initialize_never_locks_out_a_new_client(open_server: Served) -> None:
    statuses = [initialize(open_server.port)[0] for _ in range(200)]

    async with client(open_server.url) as fresh:
        answer = await call_pos_workflow(fresh, "list_workflows")

    assert set(statuses) == {200}
    assert answer["status"] == "success"


@pytest.mark.slow
async def test_a_client_at_its_limit_evicts_its_own_oldest_idle_session(
    project: Path,
) -> None:
    limits = HttpLimits(max_sessions=100, max_sessions_per_client=3)
    for served in serve(project, limits, {TOKEN: "alice", OTHER: "bob"}):
        bob = [initialize(served.port, OTHER)[1] for _ in range(2)]
        alice = [initialize(served.port, TOKEN)[1] for _ in range(10)]

        async with client(served.url, OTHER) as still_bob:
            answer = await call_pos_workflow(still_bob, "list_workflows")

        assert answer["status"] == "success"
        assert all(bob) and all(alice)
        # alice's first sessions were evicted to admit her later ones; bob's were not.
        assert ping(served.port, OTHER, bob[0]) == 200
        assert ping(served.port, TOKEN, alice[0]) == 404
        assert ping(served.port, TOKEN, alice[-1]) == 200


def ping(port: int, token: str | None, session: str | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "mcp-session-id": session or "",
        "mcp-protocol-version": "2025-06-18",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("POST", HTTP_PATH, '{"jsonrpc":"2.0","id":5,"method":"ping"}', headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.slow
def test_half_sent_headers_are_dropped_after_the_header_timeout(open_server: Served) -> None:
    sockets = []
    for _ in range(40):
        sock = socket.create_connection(("127.0.0.1", open_server.port))
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sockets.append(sock)
    silent = socket.create_connection(("127.0.0.1", open_server.port))  # sends nothing at all
    sockets.append(silent)

    closed = 0
    for sock in sockets:
        sock.settimeout(10)
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            closed += sock.recv(1024) == b""
        sock.close()

    assert closed == len(sockets)


def test_one_address_cannot_hold_every_connection(project: Path) -> None:
    limits = HttpLimits(max_connections_per_client=5)
    for served in serve(project, limits, None):
        held = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(5)]
        extra = socket.create_connection(("127.0.0.1", served.port))
        extra.settimeout(10)

        assert extra.recv(1024) == b""
        for sock in [*held, extra]:
            sock.close()


async def test_a_request_without_a_valid_token_gets_401(authed_server: Served) -> None:
    statuses = [
        initialize(authed_server.port)[0],
        initialize(authed_server.port, "wrong-token-" + "z" * 20)[0],
        initialize(authed_server.port, TOKEN)[0],
    ]

    assert statuses == [401, 401, 200]


@pytest.mark.slow
async def test_a_client_with_a_token_works_end_to_end(authed_server: Served) -> None:
    async with client(authed_server.url, TOKEN) as alice:
        started = await call_pos_workflow(
            alice, "start", workflow_type="test_gen_v3", target_file="src/calculator.py"
        )

    assert started["status"] == "success"


async def test_a_session_cannot_be_used_with_another_token(authed_server: Served) -> None:
    _status, session = initialize(authed_server.port, TOKEN)

    assert ping(authed_server.port, TOKEN, session) == 200
    assert ping(authed_server.port, OTHER, session) == 404


def test_tokens_come_from_a_file_and_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text(f"# team tokens\nalice {TOKEN}\n\n{OTHER}  # ci\n")

    tokens = load_tokens(token_file, {"POS_WORKFLOW_AUTH_TOKEN": "e" * 30})

    assert tokens == {TOKEN: "alice", OTHER: "token-4", "e" * 30: "env"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [("short\n", "at least 24 characters"), (f"a b {TOKEN}\n", "expected '<token>'")],
)
def test_a_weak_or_malformed_token_file_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text(text)

    with pytest.raises(ServerConfigError, match=problem):
        load_tokens(token_file, {})


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tool", "serve", "--transport", "http", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_binding_every_address_without_a_token_is_refused(project: Path) -> None:
    done = run_cli("--project-root", str(project), "--host", "0.0.0.0", "--port", "0")  # noqa: S104

    assert done.returncode == 2
    assert b"reachable from other machines and no auth token" in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.slow
def test_an_exposed_server_warns_at_start_up(project: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text(TOKEN + "\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pos_tool",
            "serve",
            "--transport",
            "http",
            "--project-root",
            str(project),
            "--host",
            "0.0.0.0",  # noqa: S104 - the point of the test
            "--port",
            "0",
            "--auth-token-file",
            str(token_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stderr is not None
    try:
        first = process.stderr.readline()
    finally:
        process.terminate()
        process.communicate(timeout=10)

    assert b"reachable from other machines over plain HTTP" in first


@pytest.mark.parametrize("path", ["/metrics", "/dashboard", "/dashboard/data"])
def test_the_monitoring_routes_sit_behind_the_same_token(authed_server: Served, path: str) -> None:
    def get(token: str | None) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", authed_server.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{authed_server.port}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    assert (get(None), get("wrong-token-" + "z" * 20), get(TOKEN)) == (401, 401, 200)
