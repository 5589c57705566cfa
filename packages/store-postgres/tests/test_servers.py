"""Several real HTTP servers on one PostgreSQL store: no lost update, one advance, crash-safe.

Each server is ``pos-workflow serve --transport http --store postgresql://...`` in its
own process; the clients are the MCP SDK's streamable HTTP client, as an IDE would use.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from pos_engine import Session
from pos_store_postgres import PostgresSessionStore
from pos_tool import HTTP_PATH
from pos_tool.testing import call_pos_workflow

pytestmark = [pytest.mark.postgres, pytest.mark.servers, pytest.mark.anyio]

WORKFLOW = "test_gen_v3"


# -- real server processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One server process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HTTP_PATH}"


def make_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
    return root


def start_server(project: Path, store_url: str, log_dir: Path, *extra: str) -> Server:
    """Launch ``pos-workflow serve`` over HTTP on a free port (not waiting for it)."""
    port = free_port()
    log = log_dir / f"server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "pos_tool",
        "serve",
        "--transport",
        "http",
        "--port",
        str(port),
        "--project-root",
        str(project),
        "--store",
        store_url,
        "--log-level",
        "WARNING",
        *extra,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink)
    return Server(process, port, log)


async def wait_until_serving(server: Server, timeout: float = 60) -> None:
    """Return once the server answers list_workflows; fail with its log if it dies."""
    with anyio.fail_after(timeout):
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {server.process.returncode}: "
                    f"{server.log.read_text(errors='replace')[-2000:]}"
                )
            try:
                async with Client(server.url) as client:
                    await call_pos_workflow(client, "list_workflows")
                return
            except Exception:  # not listening yet
                await anyio.sleep(0.1)


@contextlib.contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    """Stop (terminate, then kill) every server at the end of the block."""
    try:
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


@contextlib.asynccontextmanager
async def client(server: Server) -> AsyncIterator[Client]:
    async with Client(server.url) as connected:
        yield connected


async def call(connected: Client, action: str, **arguments: Any) -> dict[str, Any]:
    return await call_pos_workflow(connected, action, **arguments)


# -- the tests --------------------------------------------------------------------------


@pytest.fixture
def store(database_url: str) -> Iterator[PostgresSessionStore]:
    store = PostgresSessionStore.from_url(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


async def _serve(count: int, project: Path, url: str, log_dir: Path) -> list[Server]:
    servers = [start_server(project, url, log_dir) for _ in range(count)]
    async with anyio.create_task_group() as group:
        for server in servers:
            group.start_soon(wait_until_serving, server)
    return servers


async def _start_sessions(server: Server, count: int) -> list[dict[str, Any]]:
    async with client(server) as connected:
        return [
            await call(connected, "start", workflow_type=WORKFLOW, target_file=f"src/m{n}.py")
            for n in range(count)
        ]


def _assert_consistent(session: Session) -> None:
    """Every recorded failure is one attempt and one version: nothing lost, nothing doubled."""
    attempts = sorted(a.attempt for a in session.phase_history if a.phase == session.start_phase)
    failed = len(session.errors)
    assert attempts == list(range(1, max(failed, 1) + 1)), session.session_id
    assert session.version == 1 + failed, session.session_id


async def test_four_servers_lose_none_of_4000_concurrent_read_modify_write_updates(
    store: PostgresSessionStore, project: Path, database_url: str, tmp_path: Path
) -> None:
    # All four clients walk the sessions in the same order, so they collide on each one;
    # 40 sessions keep the documents small (each failure adds an error to its session).
    servers_count, updates_each, sessions_count = 4, 1000, 40
    servers = await _serve(servers_count, project, database_url, tmp_path)
    with running(servers):
        started = await _start_sessions(servers[0], sessions_count)
        ids = [s["session_id"] for s in started]
        phase = started[0]["current_phase"]
        refused: list[dict[str, Any]] = []

        async def hammer(server: Server) -> None:
            # Evidence that fails the checkpoint: each call appends an error and an attempt.
            async with client(server) as connected:
                for n in range(updates_each):
                    sid = ids[n % sessions_count]
                    result = await call(
                        connected, "complete_phase", session_id=sid, phase=phase, evidence={}
                    )
                    if result.get("checkpoint_passed") is not False:
                        refused.append(result)

        began = time.perf_counter()
        async with anyio.create_task_group() as group:
            for server in servers:
                group.start_soon(hammer, server)
        elapsed = time.perf_counter() - began

    sessions, unreadable = store.load_many(ids)
    assert (refused, unreadable) == ([], [])
    recorded = sum(len(s.errors) for s in sessions.values())
    assert recorded == servers_count * updates_each
    for session in sessions.values():
        _assert_consistent(session)
    print(
        f"\n{servers_count} servers x {updates_each} concurrent updates on {sessions_count} "
        f"sessions: {recorded} recorded, {servers_count * updates_each - recorded} lost, "
        f"{elapsed:.1f} s ({servers_count * updates_each / elapsed:.0f} updates/s)"
    )


async def test_two_servers_completing_the_same_phase_advance_it_once(
    store: PostgresSessionStore, project: Path, database_url: str, tmp_path: Path
) -> None:
    servers = await _serve(2, project, database_url, tmp_path)
    with running(servers):
        started = await _start_sessions(servers[0], 20)
        results: list[dict[str, Any]] = []

        async def complete(server: Server, response: dict[str, Any]) -> None:
            async with client(server) as connected:
                evidence = response["phase_content"]["checkpoint"]["evidence_example"]
                results.append(
                    await call(
                        connected,
                        "complete_phase",
                        session_id=response["session_id"],
                        phase=response["current_phase"],
                        evidence=evidence,
                    )
                )

        async with anyio.create_task_group() as group:
            for response in started:
                for server in servers:
                    group.start_soon(complete, server, response)

    assert len(results) == 40
    # Both calls succeed (the second is a replay of the same evidence), yet one advanced it.
    assert {(r["status"], r["checkpoint_passed"]) for r in results} == {("success", True)}
    sessions, _ = store.load_many(s["session_id"] for s in started)
    for response in started:
        session = sessions[response["session_id"]]
        first = response["current_phase"]
        assert (session.current_phase, session.completed_phases) == (first + 1, [first])
        passed = [a for a in session.phase_history if a.status == "passed"]
        assert [a.phase for a in passed] == [first]
        assert session.version == 2


async def test_a_server_killed_mid_write_leaves_every_session_valid(
    store: PostgresSessionStore, project: Path, database_url: str, tmp_path: Path
) -> None:
    victim, survivor = await _serve(2, project, database_url, tmp_path)
    with running([victim, survivor]):
        started = await _start_sessions(survivor, 10)
        ids = [s["session_id"] for s in started]
        phase = started[0]["current_phase"]
        calls = {"victim": 0, "survivor": 0}

        async def hammer(server: Server, name: str, stop: anyio.Event) -> None:
            try:
                async with client(server) as connected:
                    while not stop.is_set():
                        sid = ids[calls[name] % len(ids)]
                        await call(
                            connected, "complete_phase", session_id=sid, phase=phase, evidence={}
                        )
                        calls[name] += 1
            except Exception:  # the victim's connection dies with it
                if name == "survivor":
                    raise

        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(hammer, victim, "victim", stop)
            group.start_soon(hammer, survivor, "survivor", stop)
            with anyio.fail_after(60):
                while calls["victim"] < 150:
                    await anyio.sleep(0.01)
            victim.process.kill()  # SIGKILL while its three clients have writes in flight
            victim.process.wait()
            with anyio.fail_after(60):
                mark = calls["survivor"]
                while calls["survivor"] < mark + 30:
                    await anyio.sleep(0.01)
            stop.set()

        # Every session is readable and consistent, and the survivor still writes them all.
        sessions, unreadable = store.load_many(ids)
        assert (sorted(sessions), unreadable) == (sorted(ids), [])
        for session in sessions.values():
            _assert_consistent(session)
        assert [s.session_id for s in store.list_summaries()] == sorted(ids, reverse=True) or len(
            store.list_summaries()
        ) == len(ids)
        assert store.corrupt_ids() == []
        async with client(survivor) as connected:
            for sid in ids:
                result = await call(
                    connected, "complete_phase", session_id=sid, phase=phase, evidence={}
                )
                assert result["checkpoint_passed"] is False
        after, _ = store.load_many(ids)
        for sid in ids:
            assert after[sid].version == sessions[sid].version + 1
            _assert_consistent(after[sid])
    assert victim.process.returncode == -9
