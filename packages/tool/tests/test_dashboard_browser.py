"""The dashboard in real headless Chromium shows the numbers ``pos-workflow stats`` prints.

Chromium comes from Debian's packages (``apt-get install chromium``; `.ci/run` and
``nox -s monitoring`` install it). Without it these tests skip, unless
``POS_REQUIRE_CHROMIUM=1`` (set by ``nox -s monitoring``) makes that a failure.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pos_engine import WorkflowEngine
from pos_tool import build_server
from pos_tool.testing import call_pos_workflow, example_evidence

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from monitoring_demo import CHROMIUM_FLAGS, headless

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POS_WORKFLOW = (sys.executable, "-m", "pos_tool")
COLUMNS = ("calls", "errors", "error_rate_percent", "mean_ms", "p50_ms", "p95_ms", "p99_ms")


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("POS_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


class _Cells(HTMLParser):
    """Collects the summary table: {row label: {data-field: text}} and the firing alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.alerts: list[str] = []
        self._row: str | None = None
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "tr" and named.get("data-action"):
            self._row = named["data-action"]
            self.rows[self._row or ""] = {}
        elif tag == "td" and self._row is not None and named.get("data-field"):
            self._field = named["data-field"]
        elif tag == "div" and named.get("data-alert"):
            self.alerts.append(named["data-alert"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._field = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._field is not None:
            self.rows[self._row][self._field] = data


def _shown(value: Any, column: str) -> str:
    """A number as `stats` prints it: counts as integers, the rest with 2 decimals."""
    if value is None:
        return "-"
    return str(value) if column in ("calls", "errors") else f"{value:.2f}"


async def _record_traffic(project: Path, drive_workflow: Any) -> None:
    async with Client(build_server(project, durable=False)) as client:
        await drive_workflow(client)
        await call_pos_workflow(client, "get_state", session_id="no_such_session")
        await call_pos_workflow(client, "drop_tables")


@pytest.fixture
def dashboard_port(project: Path) -> Iterator[int]:
    """``pos-workflow dashboard`` serving the project; yields its port once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            *POS_WORKFLOW,
            "dashboard",
            "--project-root",
            str(project),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard/data", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start: {process.stderr!r}") from None
                time.sleep(0.1)  # polling a server's start-up, not timing the product
        yield port
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.anyio
async def test_the_dashboard_in_chromium_shows_the_same_numbers_as_stats(
    chromium: str, project: Path, drive_workflow: Any, dashboard_port: int, tmp_path: Path
) -> None:
    await _record_traffic(project, drive_workflow)
    stats = subprocess.run(
        [*POS_WORKFLOW, "stats", "--project-root", str(project), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(stats.stdout)
    url = f"http://127.0.0.1:{dashboard_port}/dashboard"

    dom = headless(chromium, "--dump-dom", url)
    screenshot = tmp_path / "dashboard.png"
    shot = headless(chromium, f"--screenshot={screenshot}", "--window-size=1280,1800", url)
    cells = _Cells()
    cells.feed(dom.stdout.decode())

    expected = {a["label"]: {c: _shown(a[c], c) for c in COLUMNS} for a in summary["actions"]}
    expected["all"] = {c: _shown(summary["total"][c], c) for c in COLUMNS}
    assert dom.returncode == 0, dom.stderr.decode()[-2000:]
    assert cells.rows == expected
    assert list(cells.rows) == [
        "list_workflows",
        "start",
        "get_task",
        "complete_phase",
        "get_state",
        "unknown",
        "all",
    ]
    assert cells.alerts == []
    assert shot.returncode == 0 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000  # charts and tables, not a blank page


def test_a_dashboard_snapshot_renders_offline_from_a_file(
    chromium: str, project: Path, tmp_path: Path
) -> None:
    page = tmp_path / "snapshot.html"
    subprocess.run(
        [
            *POS_WORKFLOW,
            "dashboard",
            "--project-root",
            str(project),
            "--output",
            str(page),
        ],
        check=True,
        capture_output=True,
    )

    dom = headless(chromium, "--dump-dom", page.as_uri())
    html = dom.stdout.decode()

    assert dom.returncode == 0
    assert 'data-rendered="' in html
    assert "No tool calls recorded in this period." in html
    assert 'id="no-alerts"' in html
    assert 'data-verb="' not in html  # a snapshot has no approvals


class _DevTools:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (the DevTools protocol on fds 3/4).

    Enough to open a page, evaluate expressions in it and click: no driver to install.
    """

    _LAUNCH = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
        "os.execv(sys.argv[3], sys.argv[3:])"
    )

    def __init__(self, chromium: str, profile: Path) -> None:
        to_chromium, self._out = os.pipe()
        self._in, from_chromium = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                self._LAUNCH,
                str(to_chromium),
                str(from_chromium),
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_chromium, from_chromium),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer = b""
        self._sent = 0
        self._session: str | None = None

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._sent += 1
        message: dict[str, Any] = {"id": self._sent, "method": method, "params": params}
        if self._session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._in, 65536)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._sent:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer["result"]
                return result

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", url=url)["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def value(self, expression: str) -> Any:
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")

    def wait_for(self, expression: str) -> Any:
        deadline = time.monotonic() + 30
        while not (found := self.value(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"never true in the page: {expression}")
            time.sleep(0.05)  # polling the page's state, not timing the product
        return found

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        self.process.wait(timeout=30)
        os.close(self._in)
        os.close(self._out)


@pytest.mark.anyio
async def test_approving_from_the_standalone_dashboard_in_chromium(
    chromium: str, project: Path, dashboard_port: int, tmp_path: Path
) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True, exist_ok=True)
    gate = {"workflow_type": "test_generation_v3", "phase": 1, "prompt": "Check the analysis."}
    (config / "gates.json").write_text(json.dumps({"version": 1, "approvals": [gate]}))
    async with Client(build_server(project, durable=False)) as client:
        started = await call_pos_workflow(
            client, "start", workflow_type="test_generation_v3", target_file="src/calc.py"
        )
        sid = started["session_id"]
        phase = await call_pos_workflow(client, "get_phase", session_id=sid)
        waiting = await call_pos_workflow(
            client,
            "complete_phase",
            session_id=sid,
            phase=1,
            evidence=example_evidence(phase, project),
        )
    assert waiting["session_status"] == "awaiting_approval", waiting
    box = f'.approval[data-session="{sid}"][data-phase="1"]'

    browser = _DevTools(chromium, tmp_path / "profile")
    try:
        browser.open(f"http://127.0.0.1:{dashboard_port}/dashboard")
        browser.wait_for(f"!!document.querySelector('{box}')")
        shown = browser.value(f"document.querySelector('{box} .prompt').textContent")
        prefilled = browser.value("document.getElementById('approver').value")
        browser.value("document.getElementById('approver').value = 'grace'")
        browser.value(f"document.querySelector('{box} button[data-verb=approve]').click()")
        outcome = browser.wait_for(f"document.querySelector('{box}').dataset.decided")
        text = browser.value(f"document.querySelector('{box} .outcome').textContent")
    finally:
        browser.close()

    assert shown == "Check the analysis."
    assert prefilled == getpass.getuser()  # the dashboard's login name, as --by defaults
    assert outcome == "approved", text
    session = WorkflowEngine.for_project(project).state_manager.load(sid)
    assert (session.status, session.current_phase) == ("active", 2)
    [entry] = [e for e in session.audit if e.kind == "approval"]
    assert (entry.data["decision"], entry.data["by"]) == ("approved", "grace")
