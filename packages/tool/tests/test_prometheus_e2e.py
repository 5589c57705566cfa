"""A real Prometheus scrapes a real server with ``deploy/prometheus``'s config and rules.

Prometheus comes from Debian's ``prometheus`` package (`.ci/run` and ``nox -s
monitoring`` install it). Without it this test skips, unless
``POS_REQUIRE_PROMETHEUS=1`` (set by ``nox -s monitoring``) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client
from pos_tool import HTTP_PATH
from pos_tool.testing import call_pos_workflow

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS = shutil.which("prometheus")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - http://127.0.0.1
        return json.load(answer)


def _until(check: Callable[[], Any], what: str, seconds: float = 90) -> Any:
    """Poll ``check`` (an external process's state) until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def process() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start processes that are terminated at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*command: str) -> subprocess.Popen[bytes]:
        started.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        return started[-1]

    yield start
    for running in started:
        running.terminate()
        running.wait(timeout=30)


@pytest.mark.anyio
async def test_prometheus_scrapes_the_server_and_loads_the_three_alert_rules(
    project: Path, tmp_path: Path, process: Callable[..., subprocess.Popen[bytes]]
) -> None:
    if PROMETHEUS is None:
        if os.environ.get("POS_REQUIRE_PROMETHEUS") == "1":
            pytest.fail("prometheus is not installed (apt-get install -y prometheus)")
        pytest.skip("prometheus is not installed (apt-get install -y prometheus)")
    server_port, prometheus_port = _free_port(), _free_port()
    process(
        sys.executable, "-m", "pos_tool", "serve", "--transport", "http",
        "--port", str(server_port), "--project-root", str(project), "--no-fsync",
    )  # fmt: skip
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "1s"  # the shipped 15 s, shortened for the test
    config["rule_files"] = [str(REPO / "deploy" / "prometheus" / "alerts.yml")]
    config["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{server_port}"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    async def calls() -> bool:
        async with Client(f"http://127.0.0.1:{server_port}{HTTP_PATH}") as client:
            for _ in range(3):
                await call_pos_workflow(client, "list_workflows")
        return True

    for _ in range(300):
        try:
            await calls()
            break
        except Exception:
            await anyio.sleep(0.1)
    process(
        str(PROMETHEUS),
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        "--storage.tsdb.retention.time=30d",
        f"--web.listen-address=127.0.0.1:{prometheus_port}",
    )
    api = f"http://127.0.0.1:{prometheus_port}/api/v1"
    query = urllib.parse.quote('pos_workflow_call_duration_seconds_count{action="list_workflows"}')

    scraped = _until(
        lambda: _json(f"{api}/query?query={query}")["data"]["result"], "a scrape of the server"
    )
    rules = _json(f"{api}/rules")["data"]["groups"][0]["rules"]
    flags = _json(f"{api}/status/flags")["data"]

    assert float(scraped[0]["value"][1]) == 3
    assert scraped[0]["metric"]["job"] == "pos-workflow"
    assert [(rule["name"], rule["health"] != "err") for rule in rules] == [
        ("PosWorkflowHighLatency", True),
        ("PosWorkflowHighErrorRate", True),
        ("PosWorkflowHighMemory", True),
    ]
    assert flags["storage.tsdb.retention.time"] == "30d"
