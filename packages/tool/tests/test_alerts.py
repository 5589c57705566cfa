"""The embedded alerts fire and resolve on injected faults, with a fake clock and no sleeps."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
from mcp import Client
from pos_tool import (
    AlertRule,
    Faults,
    Monitor,
    MonitoringConfig,
    build_server,
    metrics_summary,
    parse_faults,
)
from pos_tool.testing import FakeClock, call_pos_workflow

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
LATENCY = AlertRule("PosWorkflowHighLatency", "latency", 1.0)
ERRORS = AlertRule("PosWorkflowHighErrorRate", "error_rate", 0.05)
# The test process itself is far over 100 MB: the memory rule is tested on its own.
CALLS_ONLY = MonitoringConfig(rules=(LATENCY, ERRORS))


def _states(events: list[Any]) -> list[tuple[str, str]]:
    return [(event.alert, event.state) for event in events]


async def _calls(client: Client, count: int) -> None:
    for _ in range(count):
        await call_pos_workflow(client, "list_workflows")


@pytest.mark.slow
async def test_injected_latency_fires_the_latency_alert_and_it_resolves_after(
    project: Path, make_monitor: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = make_monitor(CALLS_ONLY)
    caplog.set_level(logging.WARNING, logger="pos_tool.alerts")

    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("latency=1.5"))
        await _calls(client, 12)
        fired = monitor.tick()
        info = (await client.call_tool("get_server_info", {})).structured_content
        monitor.set_faults(Faults())
        clock.advance(300)  # the slow calls leave the 5-minute window
        await _calls(client, 12)
        resolved = monitor.tick()

    assert (_states(fired), _states(resolved)) == (
        [("PosWorkflowHighLatency", "firing")],
        [("PosWorkflowHighLatency", "resolved")],
    )
    # 12 calls of 1.5 s, all in the (1, 2.5] bucket: rank 11.4 of 12 interpolates to 2.425 s.
    assert fired[0].value == pytest.approx(2.425)
    assert info["monitoring"]["alerts_firing"] == [  # type: ignore[index]
        {
            "alert": "PosWorkflowHighLatency",
            "since": datetime.fromtimestamp(fired[0].at, UTC).isoformat(timespec="seconds"),
            "value": 2.425,
            "threshold": 1.0,
            "summary": fired[0].summary,
        }
    ]
    assert fired[0].summary == (
        "p95 latency 2.42 s over the last 5 min (> 1 s; 12 calls; slowest list_workflows p95 2.42 s)"
    )
    assert [r.getMessage() for r in caplog.records if r.name == "pos_tool.alerts"] == [
        f"alert firing: PosWorkflowHighLatency: {fired[0].summary}",
        f"alert resolved: PosWorkflowHighLatency: {resolved[0].summary}",
    ]


@pytest.mark.slow
async def test_injected_errors_fire_the_error_rate_alert_and_it_resolves_after(
    project: Path, make_monitor: Any, clock: FakeClock
) -> None:
    monitor = make_monitor(CALLS_ONLY)

    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("errors=0.25"))
        await _calls(client, 20)
        next_call = await call_pos_workflow(client, "list_workflows")
        fired = monitor.tick()
        monitor.set_faults(Faults())
        clock.advance(301)
        await _calls(client, 20)
        resolved = monitor.tick()
    summary = metrics_summary(project, now=clock.time())

    assert (_states(fired), _states(resolved)) == (
        [("PosWorkflowHighErrorRate", "firing")],
        [("PosWorkflowHighErrorRate", "resolved")],
    )
    assert fired[0].value == pytest.approx(5 / 21)
    assert next_call["status"] == "success"  # every fourth call fails: calls 4, 8, ..., 20
    assert summary is not None
    assert summary["errors_by_type"] == {"InternalError": 5}
    assert [
        (a["alert"], a["firing"], a["resolved_at"] is not None)
        for a in summary["alerts"]["history"]
    ] == [("PosWorkflowHighErrorRate", False, True)]


async def test_an_injected_error_says_it_was_injected_and_how_to_turn_it_off(
    monitored_server: Any, monitor: Monitor
) -> None:
    monitor.set_faults(parse_faults("errors=1"))
    async with Client(monitored_server) as client:
        answer = await call_pos_workflow(client, "list_workflows")

    assert answer == {
        "status": "error",
        "action": "list_workflows",
        "error": "injected fault: this call failed on purpose (fault injection is on)",
        "error_type": "InternalError",
        "remediation": (
            "Fault injection is for testing alerts: restart the server without "
            "--inject-faults and without POS_WORKFLOW_FAULTS."
        ),
    }


async def test_a_memory_ballast_fires_the_memory_alert_and_it_resolves_when_released(
    project: Path, make_monitor: Any
) -> None:
    rss = psutil.Process().memory_info().rss
    threshold = AlertRule("PosWorkflowHighMemory", "memory", rss + 60 * MB)
    monitor = make_monitor(MonitoringConfig(rules=(threshold,)))

    async with Client(build_server(project, durable=False, monitor=monitor)):
        monitor.set_faults(parse_faults("memory_mb=150"))
        fired = monitor.tick()
        monitor.set_faults(Faults())
        resolved = monitor.tick()

    assert (_states(fired), _states(resolved)) == (
        [("PosWorkflowHighMemory", "firing")],
        [("PosWorkflowHighMemory", "resolved")],
    )
    assert fired[0].value - resolved[0].value > 100 * MB


async def test_too_few_calls_in_the_window_never_fire(project: Path, make_monitor: Any) -> None:
    monitor = make_monitor(CALLS_ONLY)
    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("latency=2,errors=1"))
        await _calls(client, 9)
        events = monitor.tick()

    assert events == []
    assert monitor.alerts.values() == {
        "PosWorkflowHighLatency": None,
        "PosWorkflowHighErrorRate": None,
    }


async def test_the_error_rate_alert_can_count_only_some_error_types(
    project: Path, make_monitor: Any
) -> None:
    internal_only = AlertRule(
        "PosWorkflowHighErrorRate", "error_rate", 0.05, error_types=("InternalError",)
    )
    monitor = make_monitor(MonitoringConfig(rules=(internal_only,)))

    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        for _ in range(12):
            await call_pos_workflow(client, "get_state", session_id="no_such_session")
        events = monitor.tick()

    assert events == []
    assert monitor.alerts.values() == {"PosWorkflowHighErrorRate": 0.0}


async def test_an_alert_firing_when_the_server_stops_is_resolved_and_recorded(
    project: Path, make_monitor: Any, clock: FakeClock
) -> None:
    monitor = make_monitor(CALLS_ONLY)
    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("errors=1"))
        await _calls(client, 10)
        monitor.tick()
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert [
        (a["alert"], a["summary"], a["firing"], a["stale"]) for a in summary["alerts"]["history"]
    ] == [
        (
            "PosWorkflowHighErrorRate",
            "error rate 100.0% over the last 5 min (> 5%; 10 of 10 calls; all errors)",
            False,
            False,
        )
    ]
    assert summary["alerts"]["firing"] == []


# ------------------------------------------------------------------ webhook


class _Receiver(BaseHTTPRequestHandler):
    received: queue.Queue[tuple[str, dict[str, str], Any]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.received.put((self.path, dict(self.headers), body))
        if self.path == "/moved":
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[tuple[str, dict[str, str], Any]]]]:
    """A real HTTP server on 127.0.0.1 that keeps every POST it gets."""
    received: queue.Queue[tuple[str, dict[str, str], Any]] = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
async def test_alert_changes_are_posted_to_the_webhook_in_alertmanager_format(
    project: Path,
    make_monitor: Any,
    clock: FakeClock,
    receiver: tuple[str, queue.Queue[tuple[str, dict[str, str], Any]]],
) -> None:
    url, received = receiver
    monitor = make_monitor(MonitoringConfig(rules=(ERRORS,), webhook_url=url))

    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("errors=1"))
        await _calls(client, 10)
        monitor.tick()
        firing = received.get(timeout=30)
        monitor.set_faults(Faults())
        clock.advance(300)
        await _calls(client, 10)
        monitor.tick()
        resolved = received.get(timeout=30)

    path, headers, body = firing
    alert = body["alerts"][0]
    assert (path, headers["Content-Type"]) == ("/alerts", "application/json")
    assert {k: body[k] for k in ("version", "status", "receiver", "groupLabels")} == {
        "version": "4",
        "status": "firing",
        "receiver": "pos-workflow",
        "groupLabels": {"alertname": "PosWorkflowHighErrorRate"},
    }
    assert alert["labels"] == {
        "alertname": "PosWorkflowHighErrorRate",
        "severity": "warning",
        "project": "project",
        "instance": monitor.server.server,
        "service": "pos-workflow",
    }
    assert (alert["status"], alert["endsAt"], alert["annotations"]["threshold"]) == (
        "firing",
        "0001-01-01T00:00:00Z",
        "0.05",
    )
    assert resolved[2]["status"] == "resolved"
    assert resolved[2]["alerts"][0]["startsAt"] == alert["startsAt"]
    assert resolved[2]["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"


@pytest.mark.slow
async def test_a_webhook_that_cannot_be_reached_is_logged_and_the_server_goes_on(
    project: Path, make_monitor: Any, caplog: pytest.LogCaptureFixture
) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{closed.server_address[1]}/alerts"
    closed.server_close()  # nothing listens there any more
    monitor = make_monitor(MonitoringConfig(rules=(ERRORS,), webhook_url=url))

    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("errors=1"))
        await _calls(client, 10)
        events = monitor.tick()
        monitor.set_faults(Faults())
        answer = await call_pos_workflow(client, "list_workflows")

    assert (_states(events), answer["status"]) == (
        [("PosWorkflowHighErrorRate", "firing")],
        "success",
    )
    assert any(
        r.getMessage().startswith("alert webhook delivery failed: URLError") for r in caplog.records
    )


@pytest.mark.slow
async def test_a_webhook_that_redirects_is_a_failed_delivery_not_a_post_elsewhere(
    project: Path,
    make_monitor: Any,
    receiver: tuple[str, queue.Queue[tuple[str, dict[str, str], Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, received = receiver
    monitor = make_monitor(
        MonitoringConfig(rules=(ERRORS,), webhook_url=url.replace("/alerts", "/moved"))
    )

    async with Client(build_server(project, durable=False, monitor=monitor)) as client:
        monitor.set_faults(parse_faults("errors=1"))
        await _calls(client, 10)
        monitor.tick()
    # Leaving the client stopped the server, which waited for the delivery.

    paths = [received.get_nowait()[0] for _ in range(received.qsize())]
    assert paths == ["/moved", "/moved"]  # fired, then resolved as the server stopped
    assert any(
        r.getMessage().startswith("alert webhook delivery failed: HTTPError: HTTP Error 307")
        for r in caplog.records
    )
