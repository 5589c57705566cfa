"""/metrics and /dashboard on the HTTP transport, beside /mcp in the same app."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client
from pos_tool import HTTP_PATH, build_http_app, build_server
from pos_tool._prometheus import SERIES
from pos_tool.testing import call_pos_workflow
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[3]
SERIES_NAME = re.compile(r"\b((?:pos_workflow|process)_[a-z_]+)\b")


def _get(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - http://127.0.0.1
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def port(project: Path, serve_app: Any) -> Iterator[int]:
    server = build_server(project, durable=False)
    with serve_app(lambda port: build_http_app(server, port=port)) as port:
        yield port


async def _drive_over_http(port: int, drive_workflow: Any) -> list[str]:
    async with Client(f"http://127.0.0.1:{port}{HTTP_PATH}") as client:
        actions: list[str] = await drive_workflow(client)
        await call_pos_workflow(client, "get_state", session_id="no_such_session")
    return actions


def _exposed_sample_names(text: str) -> set[str]:
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


@pytest.mark.slow
async def test_metrics_parse_with_the_prometheus_parser_and_name_the_documented_series(
    port: int, drive_workflow: Any
) -> None:
    actions = await _drive_over_http(port, drive_workflow)

    status, headers, body = _get(port, "/metrics")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    duration = families["pos_workflow_call_duration_seconds"]
    counts = {
        s.labels["action"]: s.value
        for s in duration.samples
        if s.name == "pos_workflow_call_duration_seconds_count"
    }
    errors = [
        (s.labels, s.value)
        for s in families["pos_workflow_call_errors"].samples
        if s.name.endswith("_total")
    ]

    assert (status, headers["content-type"].split(";")[0]) == (200, "text/plain")
    assert {name.removesuffix("_total") for name in SERIES} == set(families)
    assert duration.type == "histogram"
    assert counts == {
        "list_workflows": 1,
        "start": 1,
        "get_task": actions.count("get_task"),
        "complete_phase": actions.count("complete_phase"),
        "get_state": 2,
    }
    assert errors == [
        ({"tool": "pos_workflow", "action": "get_state", "error_type": "NotFoundError"}, 1.0)
    ]
    le = [s.labels["le"] for s in duration.samples if s.name.endswith("_bucket")][:14]
    assert le == [
        "0.001",
        "0.0025",
        "0.005",
        "0.01",
        "0.025",
        "0.05",
        "0.1",
        "0.25",
        "0.5",
        "1.0",
        "2.5",
        "5.0",
        "10.0",
        "+Inf",
    ]


@pytest.mark.slow
async def test_the_prometheus_rules_and_grafana_panels_use_only_series_the_server_exposes(
    port: int, drive_workflow: Any
) -> None:
    await _drive_over_http(port, drive_workflow)
    exposed = _exposed_sample_names(_get(port, "/metrics")[2].decode())
    rules = yaml.safe_load((REPO / "deploy" / "prometheus" / "alerts.yml").read_text())
    grafana = json.loads((REPO / "deploy" / "grafana" / "pos-workflow-dashboard.json").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    expressions += [t["expr"] for panel in grafana["panels"] for t in panel["targets"]]

    used = {name for expr in expressions for name in SERIES_NAME.findall(expr)}

    assert used - exposed == set()
    assert [rule["alert"] for rule in rules["groups"][0]["rules"]] == [
        "PosWorkflowHighLatency",
        "PosWorkflowHighErrorRate",
        "PosWorkflowHighMemory",
    ]


@pytest.mark.slow
async def test_the_dashboard_is_served_with_its_data_inline_and_a_strict_policy(
    port: int, drive_workflow: Any
) -> None:
    actions = await _drive_over_http(port, drive_workflow)

    status, headers, body = _get(port, "/dashboard?range=1h")
    page = body.decode()
    embedded = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>', page, re.S
    )
    data_status, _, data_body = _get(port, "/dashboard/data?range=1h")

    assert (status, data_status) == (200, 200)
    assert headers["content-security-policy"].startswith("default-src 'none'; script-src 'sha256-")
    assert "http://" not in page and "https://cdn" not in page
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert (data["range"], data["data_url"]) == ("1h", "/dashboard/data?range=1h")
    assert data["summary"]["total"]["calls"] == len(actions) + 1
    assert json.loads(data_body)["summary"]["actions"] == data["summary"]["actions"]


async def test_an_unknown_range_is_refused_naming_the_ranges(port: int) -> None:
    status, _, body = _get(port, "/dashboard?range=1y")

    assert (status, json.loads(body)) == (
        400,
        {
            "error": "range '1y' is not one of 1h, 6h, 24h, 7d, 30d",
            "remediation": "Use ?range= with one of 1h, 6h, 24h, 7d, 30d.",
        },
    )


@pytest.mark.parametrize("path", ["/metrics", "/dashboard", "/dashboard/data"])
async def test_monitoring_routes_refuse_a_foreign_host_as_mcp_does(port: int, path: str) -> None:
    status, _, _ = _get(port, path, host=f"evil.example:{port}")

    assert status == 421


async def test_a_server_with_metrics_off_serves_no_monitoring_routes(
    project: Path, serve_app: Any
) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True)
    (config / "monitoring.json").write_text('{"version": 1, "enabled": false}')
    server = build_server(project, durable=False)

    with serve_app(lambda port: build_http_app(server, port=port)) as port:
        statuses = [_get(port, path)[0] for path in ("/metrics", "/dashboard")]

    assert statuses == [404, 404]
