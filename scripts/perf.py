"""Performance gate: pos_workflow latencies, memory and concurrency against specs/thresholds.json.

Usage::

    uv run python scripts/perf.py [--quick]

Measures, each on its own scratch project with the fixture workflow and the default
(durable, fsync-on-write) file store:

- latency of list_workflows, start, get_phase, get_state, complete_phase and
  list_sessions (over ``workload.list_sessions_sessions`` sessions), as the client sees
  it, in-process (``mcp.Client(server)``) and over stdio (``python -m pos_tool serve``):
  median and p95 (nearest rank);
- resident memory of the stdio server idle (after a warm-up call of every kind) and
  with ``workload.memory_sessions`` active sessions; the difference is the memory
  attributable to sessions;
- ``workload.concurrency_clients`` stdio clients (one server process each, one shared
  project) pausing and resuming the same three sessions at once (a lost update breaks
  the pause/resume balance), and driving ``workload.concurrency_sessions`` sessions from
  start through every checkpoint at the same time, counting failed calls and lost sessions.

The engine's own figures (``engine_p95_ms``, e.g. list_sessions over 10,000 sessions)
are measured and checked by ``benchmarks/bench_engine.py --check``; ``nox -s perf``
runs both.

Every figure is compared with its threshold and printed PASS/FAIL; exits 1 if any is
over (or any benchmark call failed). ``--quick`` runs a tenth of the iterations, for a
dry run of the script itself; its figures are not meaningful.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import psutil  # type: ignore[import-untyped]
from _client import (
    FIXTURE_WORKFLOW,
    SPECS_DIR,
    Call,
    call,
    install_fixture_workflow,
    percentile,
    print_table,
    stdio_params,
)
from _gate import GATE, judge

THRESHOLDS: dict[str, Any] = json.loads((SPECS_DIR / "thresholds.json").read_text(encoding="utf-8"))
WORKLOAD: dict[str, int] = THRESHOLDS["workload"]
MB = 1024 * 1024
START = {"action": "start", "workflow_type": FIXTURE_WORKFLOW, "target_file": "src/calculator.py"}


@dataclass(frozen=True)
class Figure:
    """One measured figure, its threshold and, for latencies, its same-run baseline."""

    name: str
    value: float
    limit: float
    unit: str
    key: str | None = None
    baselines: dict[str, float] | None = None

    @property
    def result(self) -> str:
        """PASS, SLOW or FAIL (see ``benchmarks/_gate.py``); counts and memory have no margin."""
        if self.key is None:
            return "PASS" if self.value <= self.limit else "FAIL"
        return self.verdict_line()[0]

    def verdict_line(self) -> tuple[str, str]:
        """The gate's verdict and its printed line."""
        verdict = judge(
            self.name,
            self.value,
            self.limit,
            section="tool",
            key=self.key or "",
            baselines=self.baselines or {},
            unit=self.unit,
        )
        return verdict.result, verdict.line()

    @property
    def passed(self) -> bool:
        """Whether the figure does not fail the gate."""
        return self.result != "FAIL"


class Failures:
    """Calls that did not succeed during a benchmark; any of them fails the gate."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def check(self, result: Call, label: str) -> Call:
        """Record ``result`` unless it is a success; return it."""
        if result.payload.get("status") != "success" or result.problems:
            detail = result.problems or [
                f"{result.payload.get('error_type')}: {result.payload.get('error')}"
            ]
            self.messages.append(f"{label}: {detail}")
        return result


def scratch_project(root: Path, name: str) -> Path:
    """Create ``root/name`` with the fixture workflow installed."""
    project = root / name
    project.mkdir()
    install_fixture_workflow(project)
    return project


@asynccontextmanager
async def stdio_client(project: Path) -> AsyncIterator[Any]:
    """Connect an MCP client to a fresh ``pos_tool serve`` subprocess on ``project``."""
    from mcp import Client  # noqa: PLC0415
    from mcp.client.stdio import stdio_client as transport  # noqa: PLC0415

    with open(os.devnull, "w", encoding="utf-8") as errlog:
        async with Client(transport(stdio_params(project), errlog=errlog)) as client:
            yield client


@asynccontextmanager
async def inprocess_client(project: Path) -> AsyncIterator[Any]:
    """Connect an MCP client to the real server built in this process on ``project``."""
    import pos_tool  # noqa: PLC0415
    from mcp import Client  # noqa: PLC0415

    async with Client(pos_tool.build_server(project)) as client:
        yield client


def evidence_of(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the evidence_example of the phase_content in ``payload`` (empty if none)."""
    example = payload.get("phase_content", {}).get("checkpoint", {}).get("evidence_example", {})
    return example if isinstance(example, dict) else {}


async def complete_every_phase(
    send: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]], payload: dict[str, Any]
) -> dict[str, Any]:
    """Submit each phase's evidence_example, from a start answer until the workflow completes.

    Returns the last answer: a completed workflow, or the first failure.
    """
    while payload.get("status") == "success" and payload.get("phase_content"):
        payload = await send(
            {
                "action": "complete_phase",
                "session_id": payload["session_id"],
                "phase": payload["phase_content"]["phase"],
                "evidence": evidence_of(payload),
            }
        )
    return payload


# --------------------------------------------------------------------------- latencies


async def bench_actions(client: Any, scale: float, failures: Failures) -> dict[str, list[float]]:
    """Time each benchmarked action through ``client``; return milliseconds per action."""
    times: dict[str, list[float]] = defaultdict(list)

    async def timed(key: str, arguments: dict[str, Any]) -> Call:
        # The baseline, a no-op MCP round trip, is sampled beside every timed call.
        began = time.perf_counter()
        await client.list_tools()
        times["noop_call"].append((time.perf_counter() - began) * 1000)
        result = failures.check(await call(client, arguments), key)
        times[key].append(result.ms)
        return result

    def n(count: int) -> int:
        return max(5, int(count * scale))

    for _ in range(5):  # warm-up: imports, registry scan, validators
        failures.check(await call(client, {"action": "list_workflows"}), "warm-up")
    for _ in range(n(300)):
        await timed("list_workflows", {"action": "list_workflows"})
    sessions = n(WORKLOAD["list_sessions_sessions"])
    started = [(await timed("start", START)).payload for _ in range(sessions)]
    for index in range(n(500)):
        sid = started[index % len(started)].get("session_id")
        await timed("get_phase", {"action": "get_phase", "session_id": sid})
        await timed("get_state", {"action": "get_state", "session_id": sid})
    for _ in range(n(100)):
        await timed("list_sessions", {"action": "list_sessions"})

    async def complete(arguments: dict[str, Any]) -> dict[str, Any]:
        return (await timed("complete_phase", arguments)).payload

    for payload in started:  # every checkpoint of every session: the advancing and the final path
        await complete_every_phase(complete, payload)
    return times


def latency_figures(
    transport: str, times: dict[str, list[float]]
) -> tuple[list[Figure], list[tuple[Any, ...]]]:
    """Turn timings into figures (with thresholds) and table rows."""
    limits = dict(THRESHOLDS["actions_p95_ms"])
    limits["list_sessions"] = THRESHOLDS["list_sessions_p95_ms"]
    figures, rows = [], []
    baselines = {"noop_call": percentile(times["noop_call"], 95)}
    rows.append(
        (
            transport,
            "baseline: no-op call (tools/list)",
            len(times["noop_call"]),
            f"{statistics.median(times['noop_call']):.2f}",
            f"{baselines['noop_call']:.2f}",
            "-",
        )
    )
    for action, values in times.items():
        if action == "noop_call":
            continue
        p95 = percentile(values, 95)
        label = (
            action
            if action != "list_sessions"
            else f"list_sessions ({len(times['start'])} sessions, first page)"  # one session per start
        )
        rows.append(
            (
                transport,
                label,
                len(values),
                f"{statistics.median(values):.2f}",
                f"{p95:.2f}",
                limits[action],
            )
        )
        figures.append(
            Figure(f"{transport} {label} p95", p95, limits[action], "ms", action, baselines)
        )
    return figures, rows


# ------------------------------------------------------------------------------ memory


def server_process(project: Path) -> psutil.Process:
    """Return the ``pos_tool serve`` child process serving ``project``."""
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if "pos_tool" in cmdline and str(project) in cmdline:
            return child
    raise RuntimeError(f"no pos_tool server process serves {project}")


async def bench_memory(project: Path, failures: Failures) -> tuple[float, float]:
    """Return the stdio server's RSS in MB idle (warmed up) and with the memory workload active."""
    async with stdio_client(project) as client:
        process = server_process(project)
        warm = failures.check(await call(client, START), "warm-up")
        sid = warm.payload.get("session_id")
        for arguments in (
            {"action": "list_workflows"},
            {"action": "get_phase", "session_id": sid},
            {"action": "get_state", "session_id": sid},
            {"action": "list_sessions"},
            {"action": "delete_session", "session_id": sid},
        ):
            failures.check(await call(client, arguments), "warm-up")
        idle = process.memory_info().rss / MB
        for _ in range(WORKLOAD["memory_sessions"]):
            started = failures.check(await call(client, START), "memory start")
            failures.check(
                await call(
                    client, {"action": "get_phase", "session_id": started.payload.get("session_id")}
                ),
                "memory get_phase",
            )
        listed = failures.check(
            await call(client, {"action": "list_sessions", "status": "active"}), "memory list"
        )
        if listed.payload.get("total") != WORKLOAD["memory_sessions"]:
            failures.messages.append(
                f"memory: {listed.payload.get('total')} active sessions listed"
            )
        loaded = process.memory_info().rss / MB
    return idle, loaded


# ------------------------------------------------------------------------- concurrency


async def bench_concurrency(project: Path, sessions: int) -> tuple[int, int, float, int]:
    """Drive ``sessions`` sessions through every checkpoint with concurrent stdio clients.

    Returns (errors, calls, wall seconds, sessions completed as listed afterwards), where
    errors counts failed sessions and crashed clients, or sessions missing from the final
    listing (lost updates) when there are more of those.
    """
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(sessions):
        queue.put_nowait(index)
    errors: list[str] = []
    calls = 0

    async def worker(number: int) -> None:
        try:
            async with stdio_client(project) as client:

                async def send(arguments: dict[str, Any]) -> dict[str, Any]:
                    nonlocal calls
                    calls += 1
                    return (await call(client, arguments)).payload

                while not queue.empty():
                    index = queue.get_nowait()
                    payload = await send({**START, "target_file": f"src/m{index}.py"})
                    payload = await complete_every_phase(send, payload)
                    if payload.get("status") != "success" or not payload.get("workflow_completed"):
                        errors.append(
                            f"client {number} session {index}: {payload.get('error_type')} {payload.get('error')}"
                        )
        except Exception as exc:
            errors.append(f"client {number}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(WORKLOAD["concurrency_clients"])))
    wall = time.perf_counter() - started
    async with stdio_client(project) as client:
        listed = (await call(client, {"action": "list_sessions", "status": "completed"})).payload
    completed = int(listed.get("total", 0))  # the answer is one page; total counts them all
    lost, contested_calls = await contested_pauses(project)
    calls += contested_calls
    errors.extend(lost)
    for message in errors[:5]:
        print(f"  concurrency error: {message}")
    return max(len(errors), sessions - completed), calls, wall, completed


async def contested_pauses(
    project: Path, sessions: int = 3, rounds: int = 15
) -> tuple[list[str], int]:
    """Every client pauses and resumes the SAME sessions at once; count broken invariants.

    Under the store's lock, pause succeeds only from active and resume only from paused,
    so per session: successful pauses - successful resumes is 1 if it ends paused, else 0.
    Without the lock two clients could both pause from one active state, which this sees.
    """
    async with stdio_client(project) as client:
        ids = [
            (await call(client, {**START, "target_file": f"src/shared{n}.py"})).payload[
                "session_id"
            ]
            for n in range(sessions)
        ]
    tally = dict.fromkeys(ids, 0)
    calls = 0

    async def hammer() -> None:
        nonlocal calls
        async with stdio_client(project) as client:
            for _ in range(rounds):
                for sid in ids:
                    for action, delta in (("pause", 1), ("resume", -1)):
                        calls += 1
                        answer = (await call(client, {"action": action, "session_id": sid})).payload
                        if answer.get("status") == "success":
                            tally[sid] += delta

    await asyncio.gather(*(hammer() for _ in range(WORKLOAD["concurrency_clients"])))
    problems = []
    async with stdio_client(project) as client:
        for sid in ids:
            state = (await call(client, {"action": "get_state", "session_id": sid})).payload
            expected = 1 if state.get("session_status") == "paused" else 0
            if tally[sid] != expected:
                problems.append(
                    f"shared session {sid}: {tally[sid]} more pauses than resumes succeeded, "
                    f"but it is {state.get('session_status')} (a lost update)"
                )
    return problems, calls


# -------------------------------------------------------------------------------- main


async def run(scale: float) -> tuple[list[Figure], list[str]]:
    """Run every benchmark; return the figures and the failed calls."""
    figures: list[Figure] = []
    failures = Failures()
    rows: list[tuple[Any, ...]] = []
    with tempfile.TemporaryDirectory(prefix="pos-perf-") as tmp:
        root = Path(tmp).resolve()
        for transport, connect in (("in-process", inprocess_client), ("stdio", stdio_client)):
            started = time.perf_counter()
            async with connect(scratch_project(root, transport)) as client:
                times = await bench_actions(client, scale, failures)
            more, more_rows = latency_figures(transport, times)
            figures += more
            rows += more_rows
            print(
                f"{transport}: {sum(map(len, times.values()))} timed calls in {time.perf_counter() - started:.1f} s"
            )
        print()
        print_table(("transport", "action", "calls", "median ms", "p95 ms", "limit ms"), rows)

        idle, loaded = await bench_memory(scratch_project(root, "memory"), failures)
        sessions = WORKLOAD["memory_sessions"]
        print(
            f"\nserver RSS: idle {idle:.1f} MB, with {sessions} active sessions {loaded:.1f} MB "
            f"(+{loaded - idle:.1f} MB)"
        )
        figures.append(
            Figure(
                f"memory of {sessions} active sessions",
                loaded - idle,
                THRESHOLDS["memory_sessions_mb"],
                "MB",
            )
        )

        total = max(8, int(WORKLOAD["concurrency_sessions"] * scale))
        errors, calls, wall, completed = await bench_concurrency(
            scratch_project(root, "concurrency"), total
        )
        clients = WORKLOAD["concurrency_clients"]
        print(
            f"concurrency: {clients} stdio clients, {total} sessions, {calls} calls in {wall:.1f} s "
            f"({calls / wall:.0f} calls/s), {completed} sessions completed, {errors} errors"
        )
        figures.append(
            Figure(
                f"concurrency {clients} clients x {total} sessions errors",
                errors,
                THRESHOLDS["concurrency_errors"],
                "",
            )
        )

    return figures, failures.messages


def main(argv: list[str] | None = None) -> int:
    """Run the performance gate, print every figure against its threshold; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of the iterations (figures not meaningful)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures, failed_calls = asyncio.run(run(0.1 if args.quick else 1.0))
    print()
    print_table(
        ("figure", "value", "limit", "result"),
        (
            (
                f.name,
                f"{f.value:.2f} {f.unit}" if f.unit else f"{f.value:g}",
                f"{f.limit} {f.unit}" if f.unit else f"{f.limit:g}",
                f.result,
            )
            for f in figures
        ),
    )
    print(f"\nverdicts (margin x{GATE['margin']:g}, same-run baselines; see benchmarks/_gate.py):")
    for f in figures:
        print(f.verdict_line()[1] if f.key is not None else f"{f.result} {f.name}: {f.value:g}")
    for message in failed_calls[:10]:
        print(f"FAILED CALL {message}")
    over = [f for f in figures if not f.passed]
    print(
        f"\n{len(figures) - len(over)}/{len(figures)} figures within thresholds, {len(failed_calls)} failed calls, "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 1 if over or failed_calls else 0


if __name__ == "__main__":
    sys.exit(main())
