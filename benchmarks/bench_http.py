"""HTTP throughput benchmark: get_state calls per second over Streamable HTTP.

    python benchmarks/bench_http.py [--seconds 5] [--clients 1,8,32] [--via sdk,raw] [--json]

Starts the real server in its own process (``pos-workflow serve --transport http`` on
127.0.0.1, a free port, no token: loopback needs none) on a scratch project, starts one
workflow session, then for each number of clients drives ``get_state`` of that session
for ``--seconds``, every client looping call after call, each its own MCP session:

- ``sdk``: each client is the MCP SDK's ``mcp.Client`` (streamable HTTP transport), as an
  agent would call;
- ``raw``: each client is one ``httpx2.AsyncClient`` that sends ``initialize`` once, then
  POSTs the ``tools/call`` JSON-RPC request and reads the JSON answer: the server's cost
  without the SDK client's own per-call work.

Prints, per client kind and count: requests, errors (a transport failure, an HTTP status
other than 200, or an answer whose status is not success), req/s, p50 and p95 latency,
and the CPU time per request of the server process (from ``/proc/<pid>/stat``) and of
this process (the clients): which of the two is saturated tells what bounds the figure.
All clients run in this one process, on one event loop: on a 2-core machine they compete
with the server for the CPUs, so the figures are a lower bound of the server's capacity.

``--profile FILE`` runs the server under cProfile and writes its profile to FILE (read it
with ``python -m pstats FILE``): where the server's CPU goes. The profiler slows the
server, so the figures of such a run are not its throughput.

It checks nothing (``--min-rps`` aside, which exits 1 when the 8-client figure of a kind is
under it); the figures are published in docs/development.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client

PROTOCOL_VERSION = "2025-06-18"
TOOL = "pos_workflow"
WORKFLOW = "test_generation_v3"
TARGET = "src/calculator.py"
HTTP_PATH = "/mcp"

Call = Callable[[], Awaitable[bool]]


def _console_script(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"bench_http: no {name} console script; install the workspace first")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process ``pid`` (Linux ``/proc``), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _success(answer: dict[str, Any]) -> bool:
    """Whether a tools/call JSON-RPC answer carries a successful pos_workflow response."""
    result = answer.get("result")
    if not isinstance(result, dict) or result.get("isError"):
        return False
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        return bool(structured.get("status") == "success")
    text = "".join(block.get("text", "") for block in result.get("content", []))
    return bool(json.loads(text).get("status") == "success")


@dataclass
class Level:
    """The figures of one client kind at one number of clients."""

    via: str
    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        """Calls answered or failed in the window."""
        return len(self.latencies_ms) + self.errors

    def row(self) -> dict[str, Any]:
        """The level as one table row."""
        ordered = sorted(self.latencies_ms) or [0.0]

        def pct(fraction: float) -> float:
            return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

        per_request = max(self.requests, 1)
        return {
            "via": self.via,
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "req_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(pct(0.50), 2),
            "p95_ms": round(pct(0.95), 2),
            "server_cpu_ms_per_req": None
            if self.server_cpu_s is None
            else round(self.server_cpu_s * 1000 / per_request, 3),
            "client_cpu_ms_per_req": round(self.client_cpu_s * 1000 / per_request, 3),
        }


@contextlib.asynccontextmanager
async def sdk_client(url: str, session_id: str) -> AsyncIterator[Call]:
    """One MCP SDK client (its own MCP session); yields a get_state call."""
    async with Client(url) as client:

        async def call() -> bool:
            result = await client.call_tool(TOOL, {"action": "get_state", "session_id": session_id})
            structured = result.structured_content
            return (
                not result.is_error
                and isinstance(structured, dict)
                and (structured.get("status") == "success")
            )

        yield call


@contextlib.asynccontextmanager
async def raw_client(url: str, session_id: str) -> AsyncIterator[Call]:
    """One HTTP client with its own MCP session (one initialize); yields a get_state call."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=60) as http:
        init = await http.post(
            url,
            headers=headers,
            json={
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "bench_http", "version": "1"},
                },
            },
        )
        init.raise_for_status()
        session = {
            **headers,
            "mcp-session-id": init.headers["mcp-session-id"],
            "mcp-protocol-version": PROTOCOL_VERSION,
        }
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        (await http.post(url, headers=session, json=note)).raise_for_status()
        ids = iter(range(1, 1 << 62))
        arguments = {"action": "get_state", "session_id": session_id}

        async def call() -> bool:
            request = {
                "jsonrpc": "2.0",
                "id": next(ids),
                "method": "tools/call",
                "params": {"name": TOOL, "arguments": arguments},
            }
            response = await http.post(url, headers=session, json=request)
            return response.status_code == 200 and _success(response.json())

        try:
            yield call
        finally:
            await http.delete(url, headers=session)


CLIENTS = {"sdk": sdk_client, "raw": raw_client}


async def run_level(
    url: str, session_id: str, via: str, clients: int, *, seconds: float, pid: int
) -> Level:
    """Open ``clients`` clients, then drive get_state from all of them for ``seconds``."""
    level = Level(via, clients)
    async with contextlib.AsyncExitStack() as stack:
        calls = [
            await stack.enter_async_context(CLIENTS[via](url, session_id)) for _ in range(clients)
        ]
        for call in calls:  # one untimed call each: connections open, caches warm
            await call()
        server_before, client_before = cpu_seconds(pid), time.process_time()
        began = time.perf_counter()
        deadline = began + seconds

        async def loop(call: Call) -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    ok = await call()
                except Exception:  # a transport failure counts as an error, the loop goes on
                    ok = False
                if ok:
                    level.latencies_ms.append((time.perf_counter() - start) * 1000)
                else:
                    level.errors += 1

        await asyncio.gather(*(loop(call) for call in calls))
        level.seconds = time.perf_counter() - began
        server_after = cpu_seconds(pid)
        level.client_cpu_s = time.process_time() - client_before
        if server_before is not None and server_after is not None:
            level.server_cpu_s = server_after - server_before
    return level


async def start_session(url: str, project: Path) -> str:
    """Start the one workflow session every client reads; return its id."""
    (project / TARGET).parent.mkdir(parents=True, exist_ok=True)
    (project / TARGET).write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    async with Client(url) as client:
        result = await client.call_tool(
            TOOL, {"action": "start", "workflow_type": WORKFLOW, "target_file": TARGET}
        )
    answer = result.structured_content or {}
    if result.is_error or answer.get("status") != "success":
        sys.exit(f"bench_http: start failed: {answer or result.content}")
    return str(answer["session_id"])


async def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the server answers an initialize (or exit if it died)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            sys.exit(f"bench_http: the server exited with {process.returncode} before answering")
        try:
            async with Client(url):
                return
        except Exception:
            if time.monotonic() > deadline:
                sys.exit(f"bench_http: the server did not answer within {timeout:g} s")
            await asyncio.sleep(0.1)


async def bench(
    seconds: float, counts: list[int], kinds: list[str], profile: Path | None = None
) -> list[Level]:
    """Start a server on a scratch project and measure every kind at every client count."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}{HTTP_PATH}"
    server = [_console_script("pos-workflow")]
    if profile is not None:
        server = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "pos_tool"]
    with tempfile.TemporaryDirectory(prefix="bench-http-") as scratch:
        command = [
            *server,
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
            "--project-root",
            scratch,
            "--log-level",
            "WARNING",
            # The default (32 per address) would evict the 32-client level's oldest sessions:
            # every client of this benchmark comes from 127.0.0.1.
            "--max-sessions-per-client",
            str(max(counts) * 2 + 8),
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            await wait_ready(url, process)
            session_id = await start_session(url, Path(scratch))
            levels = []
            for via in kinds:
                for clients in counts:
                    levels.append(
                        await run_level(
                            url, session_id, via, clients, seconds=seconds, pid=process.pid
                        )
                    )
            return levels
        finally:
            process.terminate()
            try:
                _, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
            if stderr.strip():
                print(stderr.decode(errors="replace")[-2000:], file=sys.stderr)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of client counts like 1,8,32")
    return counts


def _kinds(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    if not kinds or any(kind not in CLIENTS for kind in kinds):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of sdk and raw")
    return kinds


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; exit 1 on any error (or under --min-rps)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per level (default: 5)")
    parser.add_argument(
        "--clients", type=_counts, default=[1, 8, 32], help="client counts (default: 1,8,32)"
    )
    parser.add_argument(
        "--via", type=_kinds, default=["sdk", "raw"], help="client kinds (default: sdk,raw)"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="profile the server (cProfile) into FILE"
    )
    parser.add_argument(
        "--min-rps", type=float, help="exit 1 when a kind's 8-client req/s is under this"
    )
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error("--seconds must be positive")
    levels = asyncio.run(bench(args.seconds, args.clients, args.via, args.profile))
    rows = [level.row() for level in levels]
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
    else:
        print(
            f"get_state over Streamable HTTP, {args.seconds:g} s per level "
            f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})"
        )
        header = (
            f"{'via':<4} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>7} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'server CPU ms/req':>17} {'client CPU ms/req':>17}"
        )
        print(header)
        for row in rows:
            server = row["server_cpu_ms_per_req"]
            print(
                f"{row['via']:<4} {row['clients']:>7} {row['requests']:>8} {row['errors']:>6} "
                f"{row['req_per_s']:>7.1f} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} "
                f"{'n/a' if server is None else f'{server:.3f}':>17} "
                f"{row['client_cpu_ms_per_req']:>17.3f}"
            )
    failed = sum(row["errors"] for row in rows) > 0
    if args.min_rps is not None:
        failed |= any(row["clients"] == 8 and row["req_per_s"] < args.min_rps for row in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
