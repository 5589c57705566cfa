"""Cold start benchmark: how long the commands take from a fresh process.

    python benchmarks/bench_cold_start.py [--runs 5] [--cli-runs 10] [--json]

Times, wall clock from spawning the process:

- ``pos-workflow serve --project-root <scratch project>`` over stdio, driven by the MCP
  SDK's client (``stdio_client`` + ``ClientSession``) as an IDE would: until its
  ``initialize`` answer, until its first ``tools/list`` answer, and from closing its stdin
  (what a client does to stop it) until it has exited (``--runs`` times, a new server each
  time);
- ``pos-cutover check`` of the demo project, which starts two servers, and ``pos-cutover
  run`` of a fresh copy of it, which starts six (``--runs`` times each);
- ``pos-workflow --version``, ``pos-workflow --help`` and ``pos-cutover --help`` to exit,
  and two commands that read a project without a server: ``pos-cutover report`` of a
  cut-over demo project and ``pos-workflow stats`` of one ``pos-workflow demo`` drove
  (``--cli-runs`` times each; the projects are made once, in a scratch folder);
- what bounds them: a bare interpreter (``python -c pass``) and the import of the engine
  (``python -c "import pos_engine"``) and of the MCP SDK (``import mcp``).

``--against ROOT`` also times the commands and the server with the packages' sources of another
checkout (``ROOT/packages/*/src`` first on ``PYTHONPATH``, e.g. an export of the commit
before a change), alternating run by run with this one so that the machine's load hits
both alike.

Prints the median and the largest of each in milliseconds. It checks nothing: start-up
time depends on the disk cache and the machine's load more than on the code, so these are
figures to publish (docs/development.md), not a gate; the tests check what a cold start
imports instead (``test_cold_start.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def console_script(name: str) -> str:
    """The console script ``name`` of this environment (next to its Python), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"bench_cold_start: no {name} console script; install the workspace first")
    return found


def time_process(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Run ``argv`` to completion ``runs`` times; return the wall-clock milliseconds."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def against_env(root: Path) -> dict[str, str]:
    """The environment that runs the console scripts on ``root``'s package sources."""
    sources = sorted(str(src) for src in root.glob("packages/*/src"))
    if not sources:
        sys.exit(f"bench_cold_start: {root} has no packages/*/src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sources)}


def scratch_projects(scratch: Path) -> dict[str, Path]:
    """The demo project (for ``check``), cut over (for ``report``), and one the demo drove."""
    cutover, pos_workflow = console_script("pos-cutover"), console_script("pos-workflow")
    legacy, cut_over, driven = scratch / "legacy", scratch / "cut-over", scratch / "driven"
    for argv in (
        [cutover, "demo", str(legacy)],
        [cutover, "demo", str(cut_over)],
        [cutover, "run", "--project", str(cut_over)],
        [pos_workflow, "demo", "--project-root", str(driven)],
    ):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return {"legacy": legacy, "cut_over": cut_over, "driven": driven}


def server_options(env: dict[str, str] | None) -> list[str]:
    """The options that make a cutover start its servers on ``env``'s sources.

    The MCP SDK starts a server with a fixed environment (PATH, HOME, ...), so the
    ``PYTHONPATH`` of ``--against`` is passed through ``env`` on the command line.
    """
    pythonpath = (env or os.environ).get("PYTHONPATH", "")
    pos_tool = ["env", f"PYTHONPATH={pythonpath}", sys.executable, "-m", "pos_tool"]
    return [
        "--server-command",
        shlex.join([*pos_tool, "serve"]),
        "--client-command",
        shlex.join(pos_tool),
    ]


def time_commands(
    runs: int, server_runs: int, against: Path | None, projects: dict[str, Path]
) -> dict[str, list[float]]:
    """The CLI commands, alternating run by run with ``against``'s sources when given."""
    cutover, pos_workflow = console_script("pos-cutover"), console_script("pos-workflow")
    # name: (argv, runs, whether it starts servers)
    commands = {
        "pos-workflow --version": ([pos_workflow, "--version"], runs, False),
        "pos-workflow --help": ([pos_workflow, "--help"], runs, False),
        "pos-cutover --help": ([cutover, "--help"], runs, False),
        "pos-cutover report": (
            [cutover, "report", "--project", str(projects["cut_over"])],
            runs,
            False,
        ),
        "pos-workflow stats": (
            [pos_workflow, "stats", "--project-root", str(projects["driven"])],
            runs,
            False,
        ),
        "pos-cutover check": (
            [cutover, "check", "--project", str(projects["legacy"])],
            server_runs,
            True,
        ),
    }
    variants = [("", None)] + ([(" [against]", against_env(against))] if against else [])
    figures: dict[str, list[float]] = {}
    for name, (argv, count, starts_servers) in commands.items():
        for _ in range(count):
            for suffix, env in variants:
                full = [*argv, *server_options(env)] if starts_servers else argv
                figures.setdefault(name + suffix, []).extend(time_process(full, 1, env))
    for run in range(server_runs):  # each run cuts over a fresh copy of the demo
        for suffix, env in variants:
            project = projects["legacy"].with_name(f"run-{run}{suffix.strip()}")
            shutil.copytree(projects["legacy"], project, symlinks=True)
            argv = [cutover, "run", "--project", str(project), *server_options(env)]
            figures.setdefault("pos-cutover run" + suffix, []).extend(time_process(argv, 1, env))
    return figures


async def serve_once(project: Path, env: dict[str, str] | None = None) -> tuple[float, ...]:
    """Spawn a stdio server and stop it as a client does (closing its stdin).

    Returns milliseconds from the spawn to its initialize and first tools/list answers,
    and from closing its stdin to its exit (the SDK's client waits for that).
    """
    params = StdioServerParameters(
        command=console_script("pos-workflow"),
        args=["serve", "--project-root", str(project), "--log-level", "WARNING"],
        env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},
    )
    with open(os.devnull, "w", encoding="utf-8") as errlog:
        began = time.perf_counter()
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            initialized = time.perf_counter()
            tools = await session.list_tools()
            listed = time.perf_counter()
        exited = time.perf_counter()
    if not tools.tools:
        sys.exit("bench_cold_start: the server listed no tools")
    return (initialized - began) * 1000, (listed - began) * 1000, (exited - listed) * 1000


def measure(runs: int, cli_runs: int, against: Path | None = None) -> dict[str, list[float]]:
    """Every figure of the benchmark, as lists of milliseconds."""
    python = sys.executable
    figures: dict[str, list[float]] = {
        "python -c pass": time_process([python, "-c", "pass"], cli_runs),
        "python -c 'import pos_engine'": time_process(
            [python, "-c", "import pos_engine"], cli_runs
        ),
        "python -c 'import mcp'": time_process([python, "-c", "import mcp"], cli_runs),
    }
    serve_names = (
        "serve: spawn -> initialize answered",
        "serve: spawn -> first tools/list answered",
        "serve: stdin closed -> exited",
    )
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as scratch:
        figures |= time_commands(cli_runs, runs, against, scratch_projects(Path(scratch)))
        variants = [("", None)] + ([(" [against]", against_env(against))] if against else [])
        for run in range(runs):
            for suffix, env in variants:
                project = Path(scratch) / f"project-{run}{suffix.strip()}"  # no metrics yet
                project.mkdir()
                for name, ms in zip(
                    serve_names, asyncio.run(serve_once(project, env)), strict=True
                ):
                    figures.setdefault(name + suffix, []).append(ms)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure and print the cold-start figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="servers started (default: 5)")
    parser.add_argument(
        "--cli-runs", type=int, default=10, help="runs of each command (default: 10)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="ROOT",
        help="also time the commands on another checkout's package sources, alternating",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.cli_runs < 1:
        parser.error("--runs and --cli-runs must be at least 1")
    figures = measure(args.runs, args.cli_runs, args.against)
    rows: dict[str, dict[str, Any]] = {
        name: {
            "runs": len(samples),
            "median_ms": round(statistics.median(samples), 1),
            "max_ms": round(max(samples), 1),
        }
        for name, samples in figures.items()
    }
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "figures": rows}, indent=2))
        return 0
    width = max(len(name) for name in rows)
    print(f"cold start ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})")
    print(f"{'figure':<{width}}  {'runs':>4}  {'median ms':>9}  {'max ms':>8}")
    for name, row in rows.items():
        print(f"{name:<{width}}  {row['runs']:>4}  {row['median_ms']:>9.1f}  {row['max_ms']:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
