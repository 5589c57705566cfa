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
   ``mcp.Client(server)``) run ``--rounds`` times with metrics on and off, alternating
   which goes first; per action the median of all calls, and the change. On a shared
   2-core machine its noise is larger than the effect, so it is reported, not gated.
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


async def ab_rounds(root: Path, rounds: int, scale: float) -> dict[str, dict[str, list[float]]]:
    """Run the in-process benchmark ``rounds`` times per variant; return ms by variant and action."""
    times: dict[str, dict[str, list[float]]] = {"on": defaultdict(list), "off": defaultdict(list)}
    failures = Failures()
    for number in range(rounds):
        order = ("on", "off") if number % 2 == 0 else ("off", "on")
        for variant in order:
            project = scratch_project(root, f"{variant}-{number}")
            if variant == "off":
                disable_metrics(project)
            async with inprocess_client(project) as client:
                for action, values in (await bench_actions(client, scale, failures)).items():
                    times[variant][action] += values
    if failures.messages:
        raise SystemExit(f"benchmark calls failed: {failures.messages[:3]}")
    return times


def main(argv: list[str] | None = None) -> int:
    """Measure, print, and with --check compare with specs/thresholds.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="A/B rounds (default 4)")
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
        f"in-process benchmark (scripts/perf.py bench_actions), {args.rounds} rounds per variant, medians:"
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
