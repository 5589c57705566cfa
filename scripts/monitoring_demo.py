"""Simulate hours of pos_workflow traffic with incidents, then screenshot the dashboard.

Usage::

    uv run python scripts/monitoring_demo.py --screenshot docs/images/dashboard.png \
        --server-info docs/examples/monitoring-server-info.json
    # or (the screenshot only): python3 run.py monitoring -- --screenshot docs/images/dashboard.png

It runs the real server in-process (``build_server`` with a :class:`~pos_tool.Monitor`)
and drives real workflows through the MCP client, minute after minute, for
``--hours`` of simulated time ending now: the wall clock is simulated (so three
hours take a few seconds), call latencies are measured for real. Three incidents
fire and resolve each alert: injected latency, injected errors and a memory ballast;
a last error burst is still firing when the page is rendered. The page is the
self-contained snapshot ``pos-workflow dashboard --output`` writes, rendered by
headless Chromium (Debian's ``chromium``).

Server and client share this process, so its resident memory starts higher than a
server's alone: the memory alert's threshold here is 150 MB instead of 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client
from pos_tool import (
    AlertRule,
    Faults,
    Monitor,
    MonitoringConfig,
    build_server,
    parse_faults,
)
from pos_tool._dashboard_page import dashboard_data, render_dashboard
from pos_tool.testing import call_pos_workflow, example_evidence

MB = 1024 * 1024
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
# minute of the simulation -> faults switched on from then (an empty spec switches them off)
INCIDENTS = {
    70: "latency=1.3",
    78: "",
    160: "errors=0.3",
    168: "",
    250: "memory_mb=90",
    262: "",
    345: "errors=0.4",
}


def headless(chromium: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[bytes]:
    """Run Chromium headless with a fresh profile and no background network traffic."""
    with tempfile.TemporaryDirectory(prefix="pos-chromium-") as profile:
        return subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            check=False,
            timeout=timeout,
        )


class DemoClock:
    """Simulated wall time; real call durations plus injected latency (which never waits)."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._offset = 0.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.perf_counter() + self._offset

    async def sleep(self, seconds: float) -> None:
        self._offset += seconds
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def one_workflow(client: Client, minute: int) -> None:
    """Start a session and move it a little: tasks, a checkpoint, sometimes a failed one."""
    await call_pos_workflow(client, "list_workflows")
    workflow = "spec_creation_v1" if minute % 3 == 0 else "test_generation_v3"
    target = "docs/spec.md" if workflow == "spec_creation_v1" else f"src/module_{minute}.py"
    answer = await call_pos_workflow(client, "start", workflow_type=workflow, target_file=target)
    if answer["status"] != "success":
        return
    sid = answer["session_id"]
    first = answer["phase_content"]["phase"]
    # Every third session runs to completion; the others stop after one to three phases.
    for _ in range(99 if minute % 3 == 0 else 1 + minute % 3):
        phase = answer["phase_content"]["phase"]
        for task in answer["phase_content"]["tasks"]:
            await call_pos_workflow(
                client, "get_task", session_id=sid, phase=phase, task_number=task["task_number"]
            )
        if minute % 47 == 5 and phase == first:  # now and then, incomplete evidence first
            await call_pos_workflow(
                client, "complete_phase", session_id=sid, phase=phase, evidence={}
            )
        done = await call_pos_workflow(
            client, "complete_phase", session_id=sid, phase=phase, evidence=example_evidence(answer)
        )
        if done["status"] != "success" or not done.get("phase_content"):
            break
        answer = done
    await call_pos_workflow(client, "get_state", session_id=sid)
    if minute % 5 == 1 and minute % 3:  # some unfinished sessions are paused
        await call_pos_workflow(client, "pause", session_id=sid)
    await call_pos_workflow(client, "list_sessions")


async def simulate(
    project: Path, hours: float, page: Path, server_info: Path | None = None
) -> dict[str, Any]:
    """Drive ``hours`` of simulated traffic through the real server and write the page.

    Returns the summary the page shows. With ``server_info``, also writes the
    ``monitoring`` part of ``get_server_info``'s answer at the end.
    """
    minutes = int(hours * 60)
    clock = DemoClock(time.time() - minutes * 60)
    memory = AlertRule("PosWorkflowHighMemory", "memory", 150 * MB)
    config = MonitoringConfig(rules=(*MonitoringConfig().rules[:2], memory))
    monitor = Monitor(project, config=config, clock=clock, background=False)
    server = build_server(project, durable=False, monitor=monitor)
    async with Client(server) as client:
        for minute in range(minutes):
            if minute in INCIDENTS:
                spec = INCIDENTS[minute]
                monitor.set_faults(parse_faults(spec) if spec else Faults())
            await one_workflow(client, minute)
            for _ in range(6):  # a tick every 10 simulated seconds, as a server does
                clock.advance(10)
                monitor.tick()
        # Rendered while the server still runs, so the last incident shows as firing.
        data = dashboard_data(project, range_name="6h", config=config, live=False, now=clock.time())
        page.write_text(render_dashboard(data), encoding="utf-8")
        monitor.set_faults(Faults())
        if server_info is not None:
            info = (await client.call_tool("get_server_info", {})).structured_content or {}
            text = json.dumps({"monitoring": info["monitoring"]}, indent=2)
            server_info.write_text(text + "\n", encoding="utf-8")
    summary: dict[str, Any] = data["summary"]
    return summary


def main(argv: list[str] | None = None) -> int:
    """Simulate, render, screenshot; print what the page shows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screenshot", type=Path, required=True, help="PNG to write")
    parser.add_argument("--html", type=Path, help="also keep the page here")
    parser.add_argument(
        "--server-info", type=Path, help="write get_server_info's monitoring part (JSON) here"
    )
    parser.add_argument("--hours", type=float, default=6.0, help="simulated hours (default 6)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args(argv)
    logging.getLogger("pos_tool").setLevel(logging.ERROR)  # the page shows the alerts
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pos-monitoring-demo-") as scratch:
        project = Path(scratch) / "demo-project"
        (project / "src").mkdir(parents=True)
        page = args.html.resolve() if args.html else Path(scratch) / "dashboard.html"
        started = time.perf_counter()
        summary = asyncio.run(simulate(project, args.hours, page, args.server_info))
        print(
            f"simulated {args.hours:g} h: {summary['total']['calls']} calls, "
            f"{summary['total']['errors']} errors, p95 {summary['total']['p95_ms']} ms, "
            f"{len(summary['alerts']['history'])} alerts in {time.perf_counter() - started:.1f} s"
        )
        for alert in summary["alerts"]["history"]:
            print(f"  {alert['alert']}: {alert['fired_at']} -> {alert['resolved_at'] or 'firing'}")
        args.screenshot.parent.mkdir(parents=True, exist_ok=True)
        shot = headless(
            chromium,
            f"--screenshot={args.screenshot.resolve()}",
            f"--window-size={args.width},{args.height}",
            page.as_uri(),
        )
        if shot.returncode != 0 or not args.screenshot.exists():
            print(shot.stderr.decode()[-2000:], file=sys.stderr)
            return 1
    print(f"wrote {args.screenshot} ({os.path.getsize(args.screenshot)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
