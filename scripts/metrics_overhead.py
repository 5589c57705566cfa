"""What monitoring costs a tool call: the in-process perf benchmark with metrics on and off.

Usage::

    uv run python scripts/metrics_overhead.py [--rounds 5] [--scale 1.0] [--check]

Two measurements, printed side by side:

1. **The edge's own cost**, measured directly: ``Monitor.measure`` around a call that
   does nothing (two clock reads, the fault check, one recorder update), per call,
   against the same call without it. This is the figure ``--check`` compares with
   ``metrics_overhead_percent`` in specs/thresholds.json, as a share of the median
   in-process call latency measured in the same run: it does not depend on how busy
   the machine is.
2. **The in-process benchmark of scripts/perf.py** (``bench_actions``: list_workflows,
   start, get_phase, get_state, list_sessions and every checkpoint, through
   ``mcp.Client(server)``) run ``--rounds`` times against two servers at once, one with
   metrics on and one with them off: each call goes to both, back to back, in alternating
   order (:class:`PairedClient`), so both see the same machine load. Per action the
   median of all calls and the change. The figure is reported, not gated: on a shared
   2-core machine even paired medians move by a few percent from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _client import print_table
from perf import THRESHOLDS, Failures, bench_actions, inprocess_client, scratch_project
from pos_tool import Monitor

EDGE_CALLS = 200_000


def edge_cost_us(project: Path) -> tuple[float, float]:
    """Microseconds per call of a no-op call with and without ``Monitor.measure``."""
    monitor = Monitor(project, background=False)
    answer: tuple[dict[str, Any], str] = ({"status": "success", "action": "get_state"}, "{}")

    async def call() -> tuple[dict[str, Any], str]:
        return answer

    async def bare() -> float:
        began = time.perf_counter()
        for _ in range(EDGE_CALLS):
            await call()
        return time.perf_counter() - began

    async def measured() -> float:
        began = time.perf_counter()
        for _ in range(EDGE_CALLS):
            await monitor.measure("pos_workflow", "get_state", call)
        return time.perf_counter() - began

    async def best_of_five() -> tuple[float, float]:
        bare_s = min([await bare() for _ in range(5)])
        measured_s = min([await measured() for _ in range(5)])
        return bare_s, measured_s

    bare_s, measured_s = asyncio.run(best_of_five())
    return bare_s / EDGE_CALLS * 1e6, measured_s / EDGE_CALLS * 1e6


def disable_metrics(project: Path) -> Path:
    """Turn the project's metrics off with its monitoring file."""
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "monitoring.json").write_text(json.dumps({"version": 1, "enabled": False}))
    return project


class PairedClient:
    """Sends every call to a server with metrics on and one with metrics off, back to back.

    The two calls of a pair run under the same machine load, in alternating order, so
    load that comes and goes on a shared machine weighs on both variants alike. Session
    ids of the "off" server are mapped from the "on" server's, so both do the same work;
    ``bench_actions`` sees the "on" server's answers.
    """

    def __init__(self, on: Any, off: Any) -> None:
        self.clients = {"on": on, "off": off}
        self.times: dict[str, dict[str, list[float]]] = {
            "on": defaultdict(list),
            "off": defaultdict(list),
        }
        self.ids: dict[str, str] = {}
        # Per action: a workload that alternates two actions would otherwise always send
        # one of them to the same server first.
        self.on_first: dict[str, bool] = defaultdict(bool)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        off_arguments = dict(arguments)
        if arguments.get("session_id") in self.ids:
            off_arguments["session_id"] = self.ids[arguments["session_id"]]
        action = arguments["action"]
        self.on_first[action] = not self.on_first[action]
        results = {}
        for variant in ("on", "off") if self.on_first[action] else ("off", "on"):
            began = time.perf_counter()
            results[variant] = await self.clients[variant].call_tool(
                name, arguments if variant == "on" else off_arguments
            )
            self.times[variant][action].append((time.perf_counter() - began) * 1000)
        on_id = (results["on"].structured_content or {}).get("session_id")
        off_id = (results["off"].structured_content or {}).get("session_id")
        if action == "start" and on_id and off_id:
            self.ids[on_id] = off_id
        return results["on"]

    async def list_tools(self) -> Any:
        """The benchmark's no-op baseline call, sent to both servers like every other call."""
        listed = await self.clients["on"].list_tools()
        await self.clients["off"].list_tools()
        return listed


async def ab_rounds(root: Path, rounds: int, scale: float) -> dict[str, dict[str, list[float]]]:
    """Run the in-process benchmark ``rounds`` times on paired servers; return ms by variant and action."""
    times: dict[str, dict[str, list[float]]] = {"on": defaultdict(list), "off": defaultdict(list)}
    failures = Failures()
    for number in range(rounds):
        on_project = scratch_project(root, f"on-{number}")
        off_project = disable_metrics(scratch_project(root, f"off-{number}"))
        async with inprocess_client(on_project) as on, inprocess_client(off_project) as off:
            paired = PairedClient(on, off)
            await bench_actions(paired, scale, failures)
        for variant, by_action in paired.times.items():
            for action, values in by_action.items():
                times[variant][action] += values
    if failures.messages:
        raise SystemExit(f"benchmark calls failed: {failures.messages[:3]}")
    return times


def main(argv: list[str] | None = None) -> int:
    """Measure, print, and with --check compare with specs/thresholds.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="benchmark rounds (default 4)")
    parser.add_argument("--scale", type=float, default=0.5, help="perf.py workload scale")
    parser.add_argument("--check", action="store_true", help="fail when over the threshold")
    args = parser.parse_args(argv)
    limit = float(THRESHOLDS["metrics_overhead_percent"])
    with tempfile.TemporaryDirectory(prefix="pos-metrics-overhead-") as tmp:
        root = Path(tmp)
        bare_us, measured_us = edge_cost_us(scratch_project(root, "edge"))
        times = asyncio.run(ab_rounds(root, args.rounds, args.scale))
    rows, on_all, off_all = [], [], []
    for action in times["on"]:
        on, off = times["on"][action], times["off"][action]
        on_all += on
        off_all += off
        on_ms, off_ms = statistics.median(on), statistics.median(off)
        rows.append(
            (
                action,
                len(on),
                f"{off_ms:.3f}",
                f"{on_ms:.3f}",
                f"{(on_ms / off_ms - 1) * 100:+.1f}%",
            )
        )
    on_ms, off_ms = statistics.median(on_all), statistics.median(off_all)
    rows.append(
        (
            "all calls",
            len(on_all),
            f"{off_ms:.3f}",
            f"{on_ms:.3f}",
            f"{(on_ms / off_ms - 1) * 100:+.1f}%",
        )
    )
    print(
        f"in-process benchmark (scripts/perf.py bench_actions), {args.rounds} rounds, "
        "each call sent to a server with metrics on and to one with them off; medians:"
    )
    print_table(("action", "calls", "metrics off ms", "metrics on ms", "change"), rows)
    edge_us = measured_us - bare_us
    share = edge_us / 1000 / off_ms * 100
    print(
        f"\nedge cost: {measured_us:.2f} us per call with Monitor.measure, {bare_us:.2f} us without: "
        f"{edge_us:.2f} us = {share:.3f}% of the median in-process call ({off_ms:.3f} ms)"
    )
    verdict = "PASS" if share <= limit else "FAIL"
    print(f"{verdict} metrics overhead {share:.3f}% (limit {limit:g}%)")
    return 1 if args.check and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
