"""``pos-workflow stats``, ``dashboard --output`` and ``serve --inject-faults``, as subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import stdio_client
from pos_tool.testing import call_pos_workflow, server_parameters

# slow: every test runs the CLI or a server as a subprocess
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ACTIONS_OF_THE_DEMO = ["list_workflows", "start", "get_task", "complete_phase", "get_state"]


def _pos_workflow(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tool", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project on which ``pos-workflow demo`` drove a workflow through a real stdio server."""
    project = tmp_path_factory.mktemp("stats") / "demo"
    result = _pos_workflow("demo", "--project-root", str(project))
    assert result.returncode == 0, result.stderr
    return project


def test_stats_shows_every_action_the_demo_called_with_latency_and_error_rate(
    demo_project: Path,
) -> None:
    text = _pos_workflow("stats", "--project-root", str(demo_project))
    as_json = _pos_workflow("stats", "--project-root", str(demo_project), "--json")
    summary = json.loads(as_json.stdout)

    lines = text.stdout.splitlines()
    header = lines.index("action          calls  errors  error %  mean ms  p50 ms  p95 ms  p99 ms")
    rows = [line.split() for line in lines[header + 1 : header + 7]]
    columns = ("calls", "errors", "error_rate_percent", "mean_ms", "p50_ms", "p95_ms", "p99_ms")

    assert (text.returncode, as_json.returncode, summary["available"]) == (0, 0, True)
    assert [a["action"] for a in summary["actions"]] == ACTIONS_OF_THE_DEMO
    assert summary["total"]["errors"] == 0
    assert summary["checkpoints"] == {"passed": 5, "failed": 0}
    assert summary["sessions"]["by_status"]["completed"] == 1
    assert [row[0] for row in rows] == [*ACTIONS_OF_THE_DEMO, "all"]
    expected = [*summary["actions"], {"action": "all", **summary["total"]}]
    assert rows == [
        [a["action"], *(str(a[c]) if c in ("calls", "errors") else f"{a[c]:.2f}" for c in columns)]
        for a in expected
    ]
    assert lines[0].startswith("pos_workflow metrics of project 'demo': last 24 h, ")


@pytest.mark.parametrize("command", [["stats"], ["pending"], ["dashboard", "--output"]])
def test_reading_a_project_imports_no_server_code(
    demo_project: Path, command: list[str], tmp_path: Path
) -> None:
    # PYTHONPROFILEIMPORTTIME makes the interpreter list every module it imports on stderr:
    # the MCP SDK, Starlette and uvicorn are most of a cold start, and these need no server.
    argv = [*command, str(tmp_path / "page.html")] if "--output" in command else command
    result = _pos_workflow(
        *argv, "--project-root", str(demo_project), env={"PYTHONPROFILEIMPORTTIME": "1"}
    )
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    ]

    assert result.returncode == 0, result.stderr[-2000:]
    assert "pos_tool.cli" in imported  # the listing is real
    heavy = [
        m for m in imported if m.partition(".")[0] in {"mcp", "mcp_types", "starlette", "uvicorn"}
    ]
    assert heavy == []


def test_stats_of_a_project_without_metrics_says_nothing_was_recorded(tmp_path: Path) -> None:
    text = _pos_workflow("stats", "--project-root", str(tmp_path))
    as_json = _pos_workflow("stats", "--project-root", str(tmp_path), "--json")

    message = (
        "no metrics recorded yet: .praxis-os/metrics/metrics.db does not exist "
        "(a server writes it once it runs on this project)"
    )
    assert (text.returncode, text.stdout) == (0, f"pos-workflow stats: {message}\n")
    assert json.loads(as_json.stdout) == {
        "project": tmp_path.name,
        "available": False,
        "message": message,
    }
    assert not (tmp_path / ".praxis-os").exists()


def test_stats_refuses_a_period_it_cannot_read(tmp_path: Path) -> None:
    result = _pos_workflow("stats", "--project-root", str(tmp_path), "--since", "yesterday")

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "pos-workflow stats: error: argument --since: 'yesterday' is not a period like "
        "30m, 24h or 7d (minutes, hours or days)"
    )


def test_dashboard_output_writes_a_page_that_needs_nothing_else(
    demo_project: Path, tmp_path: Path
) -> None:
    page = tmp_path / "dashboard.html"

    result = _pos_workflow(
        "dashboard", "--project-root", str(demo_project), "--output", str(page), "--range", "7d"
    )
    html = page.read_text(encoding="utf-8")

    assert (result.returncode, result.stdout) == (0, f"pos-workflow dashboard: wrote {page}\n")
    assert html.count("<script") == 3 and "src=" not in html and 'href="http' not in html
    assert '"data_url":null' in html and '"range":"7d"' in html
    assert "uPlot" in html


async def test_serve_with_injected_errors_fails_calls_and_stats_counts_them(
    project: Path,
) -> None:
    params = server_parameters(project, durable=False)
    params.args = [*params.args, "--inject-faults", "errors=1"]
    with open(os.devnull, "w", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            answer = await call_pos_workflow(client, "list_workflows")
            info = (await client.call_tool("get_server_info", {})).structured_content
    summary = json.loads(_pos_workflow("stats", "--project-root", str(project), "--json").stdout)

    assert (answer["status"], answer["error_type"]) == ("error", "InternalError")
    assert info["monitoring"]["faults"] == "errors=1"  # type: ignore[index]
    assert summary["errors_by_type"] == {"InternalError": 1}


async def test_the_fault_environment_variable_switches_faults_on_too(project: Path) -> None:
    params = server_parameters(project, durable=False)
    params.env = {**(params.env or {}), "POS_WORKFLOW_FAULTS": "errors=1"}
    with open(os.devnull, "w", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            answer = await call_pos_workflow(client, "list_workflows")

    assert answer["error"] == "injected fault: this call failed on purpose (fault injection is on)"


def test_a_bad_fault_spec_stops_the_server_at_start_with_exit_2(project: Path) -> None:
    result = _pos_workflow("serve", "--project-root", str(project), "--inject-faults", "slow=1")

    assert result.returncode == 2
    assert result.stderr.splitlines()[-2] == (
        "pos-workflow: cannot start: fault 'slow=1' is not one of latency=SECONDS, "
        "errors=RATIO, memory_mb=MB"
    )


def _rpc(process: subprocess.Popen[bytes], message: dict[str, Any]) -> dict[str, Any] | None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(message).encode() + b"\n")
    process.stdin.flush()
    if "id" not in message:
        return None
    answer: dict[str, Any] = json.loads(process.stdout.readline())
    return answer


def test_sigterm_stops_a_stdio_server_after_it_writes_its_last_metrics(project: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(project), "--no-fsync"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _rpc(
            process,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"},
                },
            },
        )
        _rpc(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        for number in range(2, 5):
            answer = _rpc(
                process,
                {
                    "jsonrpc": "2.0",
                    "id": number,
                    "method": "tools/call",
                    "params": {"name": "pos_workflow", "arguments": {"action": "list_workflows"}},
                },
            )
            assert answer is not None and "result" in answer
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # pragma: no cover - only when the test fails
            process.kill()
    summary = json.loads(_pos_workflow("stats", "--project-root", str(project), "--json").stdout)

    assert b"Traceback" not in stderr
    assert [(a["action"], a["calls"]) for a in summary["actions"]] == [("list_workflows", 3)]
    assert [s["running"] for s in summary["servers"]] == [False]
