"""Side-by-side benchmark: pos_workflow against the praxis-os pos_workflow it replaces.

    python benchmarks/bench_praxis.py --praxis PATH [--quick] [--json] [--via dispatch|mcp]
    PRAXIS_OS_CHECKOUT=PATH nox -s bench-praxis -- [--quick] [--json]

Runs both tools in one process, on scratch projects with the same workflow
(spec_creation_v1: our bundled definition, praxis-os's from its ``universal/workflows``),
calling them in turn (A, B, A, B, ... with the first caller rotating every round)
so that machine noise hits both alike, and prints p50, p95 and the p50 ratio of:
list_workflows, get_phase, get_task, get_state, complete_phase, and start and
list_sessions with ``--sessions`` sessions on disk.

``--via dispatch`` (the default) calls each tool's dispatcher in-process: our
``pos_tool.dispatch`` (which answers with JSON text) against praxis-os's
``pos_workflow`` coroutine plus ``json.dumps`` of its answer, the text its server
would send. ``--via mcp`` registers both on the same MCP SDK and calls them with its
in-process client, as an agent sees them. pos_workflow fsyncs every session write
and praxis-os never does, so the mutating actions are also measured with our
store's ``durable=False``. What of praxis-os is stood in for, and what that means
for its figures, is described in ``benchmarks/_praxis.py``.

Without a checkout (no ``--praxis`` and no ``PRAXIS_OS_CHECKOUT``, or a path that
does not exist) it prints why it skipped and exits 0. Exits 1 if a call fails and
2 if the checkout cannot be used.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import OURS, OURS_FAST, THEIRS, VIA, Row, Stats, format_report, report_json
from _praxis import (
    WORKFLOW,
    Praxis,
    PraxisError,
    checkout_commit,
    checkout_problem,
    load_praxis,
    praxis_engine,
    praxis_evidence,
    praxis_session_count,
    praxis_tool,
    seed_praxis,
)
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pos_engine import FileSessionStore, WorkflowEngine
from pos_tool import TOOL_NAME, Backends, build_server, dispatch

ENV_VAR = "PRAXIS_OS_CHECKOUT"
WARMUP = 1
FULL = {"sessions": 10_000, "repeat": 200, "repeat_at_sessions": 20}
QUICK = {"sessions": 1_000, "repeat": 20, "repeat_at_sessions": 5}

Arguments = dict[str, Any]
Call = Callable[[], Awaitable[Arguments]]
Tool = Callable[[Arguments], Awaitable[Arguments]]


class BenchmarkError(Exception):
    """A benchmarked call did not succeed, so its timing would mean nothing."""


# --------------------------------------------------------------- the sides


def _ours_dispatch(project: Path, *, durable: bool) -> Tool:
    engine = WorkflowEngine.for_project(project, durable=durable)
    backends = Backends(engine, engine.state_manager)

    async def call(arguments: Arguments) -> Arguments:
        return await dispatch(backends, arguments, tuple(arguments))

    return call


def _praxis_dispatch(tool: Any) -> Tool:
    async def call(arguments: Arguments) -> Arguments:
        answer: Arguments = await tool(**arguments)
        # Our dispatch answers with JSON text too; praxis-os's server would serialise this.
        json.dumps(answer, default=str)
        return answer

    return call


def _client_call(client: Any) -> Tool:
    async def call(arguments: Arguments) -> Arguments:
        result = await client.call_tool(TOOL_NAME, arguments)
        answer: Arguments = json.loads(result.content[0].text)
        return answer

    return call


@asynccontextmanager
async def open_sides(
    via: str, ours_project: Path, praxis: Praxis, engine: Any
) -> AsyncIterator[dict[str, Tool]]:
    """Yield a call function for each side: ours durable, ours without fsync, praxis-os."""
    if via == "dispatch":
        yield {
            OURS: _ours_dispatch(ours_project, durable=True),
            OURS_FAST: _ours_dispatch(ours_project, durable=False),
            THEIRS: _praxis_dispatch(praxis_tool(praxis, engine)),
        }
        return
    theirs = MCPServer("praxis-os")
    praxis.register_workflow_tools(theirs, engine, None, None)
    async with (
        Client(build_server(ours_project)) as ours,
        Client(build_server(ours_project, durable=False)) as fast,
        Client(theirs) as praxis_client,
    ):
        yield {
            OURS: _client_call(ours),
            OURS_FAST: _client_call(fast),
            THEIRS: _client_call(praxis_client),
        }


# ---------------------------------------------------------------- measuring


def check(name: str, answer: Arguments) -> Arguments:
    """Return ``answer`` if the call succeeded; raise BenchmarkError otherwise."""
    if answer.get("status") != "success" or answer.get("checkpoint_passed") is False:
        shown = json.dumps(answer, default=str)[:400]
        raise BenchmarkError(f"{name} answered {shown}")
    return answer


async def interleave(
    calls: Mapping[str, Call], repeat: int, warmup: int = WARMUP
) -> tuple[dict[str, Stats], dict[str, Arguments]]:
    """Call every side ``warmup + repeat`` times in turn; time the last ``repeat`` calls.

    Each round calls every side once; the side that goes first rotates from round
    to round, so neither side always runs right after the other.

    Returns:
        Each side's figures and its last answer.
    """
    names = list(calls)
    samples: dict[str, list[float]] = {name: [] for name in names}
    answers: dict[str, Arguments] = {}
    for round_ in range(warmup + repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            began = time.perf_counter()
            answer = await calls[name]()
            elapsed = (time.perf_counter() - began) * 1000
            answers[name] = check(name, answer)
            if round_ >= warmup:
                samples[name].append(elapsed)
    return {name: Stats.of(samples[name], answers[name]) for name in names}, answers


def _ask(tool: Tool, arguments: Arguments) -> Call:
    return partial(tool, arguments)


def _start_args(target: str) -> Arguments:
    return {"action": "start", "workflow_type": WORKFLOW, "target_file": target}


def _starts(tool: Tool, prefix: str) -> Call:
    """A call that starts a session on a new target file each time."""
    counter = iter(range(10**9))

    async def call() -> Arguments:
        return await tool(_start_args(f"src/{prefix}_{next(counter)}.py"))

    return call


def _completes(tool: Tool, pool: list[str], phase: int, evidence: Arguments) -> Call:
    """A call that completes ``phase`` of the next session of ``pool``."""

    async def call() -> Arguments:
        args = {"action": "complete_phase", "session_id": pool.pop(), "phase": phase}
        return await tool({**args, "evidence": evidence})

    return call


async def _pool(tool: Tool, prefix: str, count: int) -> list[str]:
    start = _starts(tool, prefix)
    return [check(prefix, await start())["session_id"] for _ in range(count)]


def seed_ours(project: Path, template_id: str, total: int) -> None:
    """Bring pos_workflow's store to ``total`` sessions, copies of ``template_id``.

    Written through the store's own API (without fsync, which only seeding skips).
    """
    store = FileSessionStore.from_project(project, durable=False)
    template = store.load(template_id)
    for index in range(total - len(store.list_summaries())):
        store.create(
            template.model_copy(
                update={
                    "session_id": f"{WORKFLOW}_seed_{index}_py_20260101_000000_{index:06x}",
                    "target_file": f"src/seed_{index}.py",
                }
            )
        )


async def measure(
    tools: Mapping[str, Tool],
    engine: Any,
    projects: Mapping[str, Path],
    config: Mapping[str, Any],
) -> tuple[list[Row], dict[str, int]]:
    """Measure every row of the table.

    Returns:
        The rows, and how many workflows each side's list_workflows listed.
    """
    ours, fast, theirs = tools[OURS], tools[OURS_FAST], tools[THEIRS]
    repeat, big = config["repeat"], config["sessions"]
    started = {
        OURS: check(OURS, await fast(_start_args("src/read.py"))),
        THEIRS: check(THEIRS, await theirs(_start_args("src/read.py"))),
    }
    sid = {side: answer["session_id"] for side, answer in started.items()}
    phase = {side: answer["current_phase"] for side, answer in started.items()}
    reads: dict[str, Callable[[str], Arguments]] = {
        "list_workflows": lambda side: {"action": "list_workflows"},
        "get_phase": lambda side: {"action": "get_phase", "session_id": sid[side]},
        "get_task": lambda side: {
            "action": "get_task",
            "session_id": sid[side],
            "phase": phase[side],
            "task_number": 1,
        },
        "get_state": lambda side: {"action": "get_state", "session_id": sid[side]},
    }
    rows = []
    listed: dict[str, int] = {}
    for action, arguments in reads.items():
        progress(f"measuring {action}")
        calls = {side: _ask(tools[side], arguments(side)) for side in (OURS, THEIRS)}
        stats, answers = await interleave(calls, repeat)
        rows.append(Row(action, stats[OURS], stats[THEIRS]))
        if action == "list_workflows":
            listed = {side: len(answer["workflows"]) for side, answer in answers.items()}

    progress("measuring complete_phase")
    count = repeat + WARMUP
    evidence = {
        OURS: started[OURS]["phase_content"]["checkpoint"]["evidence_example"],
        THEIRS: praxis_evidence(projects[THEIRS], phase[THEIRS]),
    }
    calls = {
        OURS: _completes(ours, await _pool(fast, "durable", count), phase[OURS], evidence[OURS]),
        OURS_FAST: _completes(fast, await _pool(fast, "fast", count), phase[OURS], evidence[OURS]),
        THEIRS: _completes(
            theirs, await _pool(theirs, "praxis", count), phase[THEIRS], evidence[THEIRS]
        ),
    }
    stats, _ = await interleave(calls, repeat)
    rows += [
        Row("complete_phase", stats[OURS], stats[THEIRS]),
        Row("complete_phase, no fsync", stats[OURS_FAST], stats[THEIRS]),
    ]

    progress(f"seeding {big:,} sessions on each side")
    seed_ours(projects[OURS], sid[OURS], big)
    seed_praxis(engine, big - praxis_session_count(engine))
    gc.collect()
    at = f"@ {big:,} sessions"
    progress(f"measuring start {at}")
    calls = {
        OURS: _starts(ours, "big"),
        OURS_FAST: _starts(fast, "fast"),
        THEIRS: _starts(theirs, "big"),
    }
    stats, _ = await interleave(calls, config["repeat_at_sessions"])
    rows += [
        Row(f"start {at}", stats[OURS], stats[THEIRS]),
        Row(f"start {at}, no fsync", stats[OURS_FAST], stats[THEIRS]),
    ]
    progress(f"measuring list_sessions {at}")
    calls = {side: _ask(tools[side], {"action": "list_sessions"}) for side in (OURS, THEIRS)}
    stats, _ = await interleave(calls, config["repeat_at_sessions"])
    rows.append(Row(f"list_sessions {at}", stats[OURS], stats[THEIRS]))
    return rows, listed


# -------------------------------------------------------------------- main


def progress(message: str) -> None:
    """Say what the benchmark is doing (stderr: stdout holds only the result)."""
    print(f"bench_praxis: {message}", file=sys.stderr, flush=True)


async def run(praxis: Praxis, config: Mapping[str, Any]) -> dict[str, Any]:
    """Set up both sides on scratch projects, measure, and return the report."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pos-bench-praxis-") as scratch:
        projects = {OURS: Path(scratch) / "pos_workflow", THEIRS: Path(scratch) / "praxis-os"}
        projects[OURS].mkdir()
        engine = praxis_engine(praxis, projects[THEIRS])
        # praxis-os resolves its workflow folder (list_workflows, the starting phase)
        # and target files against the working directory; ours uses absolute paths.
        previous = Path.cwd()
        os.chdir(projects[THEIRS])
        try:
            async with open_sides(config["via"], projects[OURS], praxis, engine) as tools:
                rows, listed = await measure(tools, engine, projects, config)
        finally:
            os.chdir(previous)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {"workflow": WORKFLOW, "warmup": WARMUP, **config},
        "praxis_os": {
            "checkout": str(praxis.checkout),
            "commit": checkout_commit(praxis.checkout),
            "stand_ins": [*praxis.stand_ins, "RAG engine (query cache pre-filled)"],
        },
        "workflows_listed": listed,
        "rows": rows,
    }
    return report


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--praxis",
        metavar="PATH",
        help=f"root of a praxis-os checkout (default: ${ENV_VAR}); skipped when absent",
    )
    parser.add_argument(
        "--via",
        choices=tuple(VIA),
        default="dispatch",
        help="call each tool's dispatcher directly (default) or through the MCP SDK's client",
    )
    parser.add_argument(
        "--sessions",
        type=int,
        help=f"sessions on disk for start and list_sessions (default {FULL['sessions']:,})",
    )
    parser.add_argument(
        "--repeat", type=int, help=f"timed calls per side and action (default {FULL['repeat']})"
    )
    parser.add_argument(
        "--repeat-at-sessions",
        type=int,
        help=f"timed calls per side for start and list_sessions (default {FULL['repeat_at_sessions']})",
    )
    parser.add_argument("--quick", action="store_true", help=f"a short run: {QUICK}")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    """Return the run's sizes: --quick or full defaults, overridden by explicit options.

    Raises:
        ValueError: a size is too small.
    """
    sizes = dict(QUICK if args.quick else FULL)
    for name in sizes:
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
            sizes[name] = value
    # The complete_phase rounds leave this many sessions on our side before seeding.
    least = 2 * (sizes["repeat"] + WARMUP) + 1
    if sizes["sessions"] < least:
        raise ValueError(
            f"--sessions must be at least {least} with --repeat {sizes['repeat']} "
            f"(the earlier rounds leave that many sessions), got {sizes['sessions']}"
        )
    return {"via": args.via, **sizes}


def skip(reason: str, *, as_json: bool) -> int:
    """Say why the comparison did not run; exit status 0."""
    hint = f"pass --praxis PATH (or set {ENV_VAR}) to the root of a praxis-os checkout"
    if as_json:
        print(json.dumps({"skipped": reason, "hint": hint}))
    else:
        print(f"bench_praxis: skipped: {reason}; {hint} to compare.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison, or skip it when no praxis-os checkout is at hand."""
    args = parse_args(argv)
    try:
        config = config_of(args)
    except ValueError as exc:
        print(f"bench_praxis: error: {exc}", file=sys.stderr)
        return 2
    given = args.praxis or os.environ.get(ENV_VAR)
    if not given:
        return skip("no praxis-os checkout given", as_json=args.json)
    checkout = Path(given).expanduser()
    if not checkout.exists():
        return skip(f"praxis-os checkout {given!r} not found", as_json=args.json)
    problem = checkout_problem(checkout)
    if problem:
        print(f"bench_praxis: error: {problem}", file=sys.stderr)
        return 2
    # The same logging on both sides, set before the MCP SDK would set up its own
    # (INFO to a rich handler): warnings and errors reach stderr, nothing else is formatted.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        report = anyio.run(run, load_praxis(checkout), config)
    except (BenchmarkError, PraxisError) as exc:
        print(f"bench_praxis: error: {exc}", file=sys.stderr)
        return 1
    print(report_json(report) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
