"""Every stdio request line gets an answer, and a broken registry stops start-up cleanly.

These run the real ``pos-workflow serve`` as a subprocess and speak raw JSON-RPC lines to
it, because the SDK's client can only send well-formed messages.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pos_tool._stdio import MAX_LINE_BYTES, check_line

# slow: the server as a stdio subprocess (one for the module), and servers failing at start-up
pytestmark = pytest.mark.slow

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


class RawServer:
    """``pos-workflow serve`` over stdio, driven line by line."""

    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(project)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.send(json.dumps(INITIALIZE).encode())
        assert self.receive()["id"] == 0
        self.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def receive(self, timeout: float = 20) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, "no answer"
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> str:
        self.process.kill()
        _, stderr = self.process.communicate(timeout=10)
        return stderr.decode()


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    """One server for the module: each test leaves it answering, or fails."""
    server = RawServer(tmp_path_factory.mktemp("raw-project"))
    yield server
    server.close()


CALL = '{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"pos_workflow","arguments":ARGS}}'


def call_line(request_id: int, arguments: str) -> bytes:
    return CALL.replace("ID", str(request_id)).replace("ARGS", arguments).encode()


@pytest.mark.parametrize(
    ("line", "code", "answer_id"),
    [
        pytest.param(
            call_line(7, '{"action":"get_state","x":"\\ud800"}'), -32700, 7, id="lone-surrogate"
        ),
        pytest.param(call_line(8, "[" * 600 + "]" * 600), -32700, 8, id="nesting-600"),
        pytest.param(call_line(9, '{"action":'), -32700, 9, id="truncated"),
        pytest.param(b"[1, 2", -32700, None, id="not-json"),
        pytest.param(b'{"jsonrpc":"2.0","id":10,"method":5}', -32600, 10, id="method-not-string"),
        pytest.param(b'{"jsonrpc":"1.0","id":11,"method":"ping"}', -32600, 11, id="wrong-version"),
        pytest.param(
            b'{"jsonrpc":"2.0","id":12,"method":"ping","params":[1]}', -32600, 12, id="params-array"
        ),
        pytest.param(b'[{"jsonrpc":"2.0","id":13,"method":"ping"}]', -32600, None, id="batch"),
        pytest.param(b'{"jsonrpc":"2.0","id":true,"method":"ping"}', -32600, None, id="bool-id"),
    ],
)
def test_an_unusable_line_gets_a_json_rpc_error_and_the_server_goes_on(
    raw: RawServer, line: bytes, code: int, answer_id: int | None
) -> None:
    raw.send(line)
    answer = raw.receive()
    raw.send(b'{"jsonrpc":"2.0","id":99,"method":"ping"}')

    assert (answer["id"], answer["error"]["code"]) == (answer_id, code)
    assert raw.receive() == {"jsonrpc": "2.0", "id": 99, "result": {}}


def test_an_oversized_line_is_answered_without_being_kept(raw: RawServer) -> None:
    raw.send(call_line(21, '{"action":"get_state","session_id":"' + "a" * MAX_LINE_BYTES + '"}'))
    answer = raw.receive(timeout=60)
    raw.send(b'{"jsonrpc":"2.0","id":22,"method":"ping"}')

    assert answer["id"] == 21
    assert answer["error"]["code"] == -32600
    assert "over" in answer["error"]["message"]
    assert raw.receive()["id"] == 22


def test_a_good_line_passes_the_check_unchanged() -> None:
    assert check_line(json.dumps(INITIALIZE).encode()) is None
    assert check_line(b'{"jsonrpc":"2.0","method":"notifications/initialized"}') is None
    assert check_line(b'{"jsonrpc":"2.0","id":"a","result":{}}') is None


@pytest.mark.parametrize(
    ("depth", "reason"), [(100_000, b"over the 65536 bytes allowed"), (5_000, b"nests deeper than")]
)
def test_a_deeply_nested_registry_stops_start_up_with_exit_2(
    project: Path, depth: int, reason: bytes
) -> None:
    registry = project / ".praxis-os" / "config" / "tool-registry.json"
    registry.parent.mkdir(parents=True)
    registry.write_text("[" * depth + "]" * depth)

    done = subprocess.run(
        [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(project)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert reason in done.stderr.splitlines()[0]
