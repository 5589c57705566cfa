"""The dashboard page and the monitoring routes of the HTTP app.

One self-contained HTML page (uPlot, the page's script and its data inline: it
works offline, from a file too) renders the summary ``pos-workflow stats`` prints,
charts of latency, error rate, sessions and memory over time, the alerts firing
and their history. Served by ``pos-workflow dashboard`` and, on the HTTP
transport, at ``/dashboard`` beside ``/mcp`` and ``/metrics``. Only the page of
``pos-workflow dashboard`` also lists and decides approvals (``_dashboard_approvals``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import anyio.to_thread
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ._dashboard_approvals import Approvals
from ._defaults import DEFAULT_RANGE, RANGES
from ._monitor import Monitor
from ._monitor_config import MB, MonitoringConfig, load_monitoring_config
from ._prometheus import CONTENT_TYPE, exposition
from ._stats import metrics_series, metrics_summary

__all__ = [
    "DASHBOARD_PATH",
    "METRICS_PATH",
    "RANGES",
    "UPLOT_VERSION",
    "dashboard_data",
    "dashboard_routes",
    "monitoring_routes",
    "render_dashboard",
]

DASHBOARD_PATH = "/dashboard"
"""Where the dashboard page is served; its data is at ``/dashboard/data``."""

METRICS_PATH = "/metrics"
"""Where the Prometheus exposition is served (HTTP transport only)."""

UPLOT_VERSION = "1.6.32"
"""The bundled charting library (``pos_tool/assets/uplot``)."""

_REFRESH_SECONDS = 15


@cache
def _asset(name: str) -> str:
    return resources.files("pos_tool").joinpath(f"assets/{name}").read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML-significant characters)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def content_security_policy() -> str:
    """The page's CSP: nothing but its own two inline scripts, inline styles and same-origin fetches."""
    scripts = " ".join(
        _sha256(_asset(name)) for name in ("uplot/uPlot.iife.min.js", "dashboard.js")
    )
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; "
        "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def dashboard_data(
    project_root: str | os.PathLike[str],
    *,
    range_name: str = DEFAULT_RANGE,
    config: MonitoringConfig | None = None,
    live: bool = True,
    now: float | None = None,
) -> dict[str, Any]:
    """Everything the page renders, for one time range.

    Args:
        project_root: The project whose metrics file is read.
        range_name: One of :data:`RANGES`.
        config: The monitoring settings (default: the project's).
        live: The page refreshes itself from ``data?range=...`` (False: a snapshot file).
        now: The end of the range (default: the current time).
    """
    root = Path(project_root)
    config = config or load_monitoring_config(root)
    window = RANGES[range_name]
    now = datetime.now(UTC).timestamp() if now is None else now
    rules = {rule.kind: rule for rule in config.rules if rule.enabled}
    return {
        "project": root.resolve().name,
        "generated_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "range": range_name,
        "ranges": list(RANGES),
        "summary": metrics_summary(root, window_seconds=window, now=now, config=config),
        "series": metrics_series(root, window_seconds=window, now=now, config=config),
        "thresholds": {
            "latency_p95_ms": rules["latency"].threshold * 1000 if "latency" in rules else None,
            "error_rate_percent": rules["error_rate"].threshold * 100
            if "error_rate" in rules
            else None,
            "rss_mb": rules["memory"].threshold / MB if "memory" in rules else None,
        },
        "data_url": f"{DASHBOARD_PATH}/data?range={range_name}" if live else None,
        "refresh_seconds": _REFRESH_SECONDS if live else None,
    }


def render_dashboard(data: dict[str, Any]) -> str:
    """The dashboard page with ``data`` (from :func:`dashboard_data`) and every asset inline."""
    page = _asset("dashboard.html")
    for marker, text in (
        ("__UPLOT_CSS__", _asset("uplot/uPlot.min.css")),
        ("__DATA__", _script_json(data)),
        ("__UPLOT_JS__", _asset("uplot/uPlot.iife.min.js")),
        ("__APP_JS__", _asset("dashboard.js")),
    ):
        page = page.replace(marker, text, 1)
    return page


# ------------------------------------------------------------------ routes


def _range(request: Request) -> str | Response:
    name = request.query_params.get("range", DEFAULT_RANGE)
    if name not in RANGES:
        return JSONResponse(
            {
                "error": f"range {name[:40]!r} is not one of {', '.join(RANGES)}",
                "remediation": f"Use ?range= with one of {', '.join(RANGES)}.",
            },
            status_code=400,
        )
    return name


def dashboard_routes(
    project_root: Path,
    security: TransportSecuritySettings,
    *,
    monitor: Monitor | None = None,
    approvals: Approvals | None = None,
) -> list[Route]:
    """``/dashboard`` and ``/dashboard/data`` for ``project_root``.

    With a ``monitor`` (the HTTP transport), each request first flushes what the
    server recorded, so the page is current to the second. With ``approvals`` (only
    ``pos-workflow dashboard``), the page lists the phases awaiting approval.
    """
    guard = TransportSecurityMiddleware(security)
    config = monitor.config if monitor is not None else None

    async def data_for(request: Request) -> dict[str, Any] | Response:
        refused = await guard.validate_request(request)
        if refused is not None:
            return refused
        range_name = _range(request)
        if isinstance(range_name, Response):
            return range_name
        if monitor is not None:
            await anyio.to_thread.run_sync(monitor.refresh)
        answer = await anyio.to_thread.run_sync(
            lambda: dashboard_data(project_root, range_name=range_name, config=config)
        )
        if approvals is not None:
            answer["approvals"] = await anyio.to_thread.run_sync(approvals.page_data)
        return answer

    async def page(request: Request) -> Response:
        data = await data_for(request)
        if isinstance(data, Response):
            return data
        return HTMLResponse(
            render_dashboard(data),
            headers={
                "Content-Security-Policy": content_security_policy(),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def data(request: Request) -> Response:
        answer = await data_for(request)
        if isinstance(answer, Response):
            return answer
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    return [
        Route(DASHBOARD_PATH, page, methods=["GET"]),
        Route(f"{DASHBOARD_PATH}/data", data, methods=["GET"]),
    ]


def monitoring_routes(monitor: Monitor, security: TransportSecuritySettings) -> list[Route]:
    """The monitoring routes of a serving process: ``/metrics`` and the dashboard's."""
    guard = TransportSecurityMiddleware(security)

    async def metrics(request: Request) -> Response:
        refused = await guard.validate_request(request)
        if refused is not None:
            return refused
        body = await anyio.to_thread.run_sync(exposition, monitor)
        return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return [
        Route(METRICS_PATH, metrics, methods=["GET"]),
        *dashboard_routes(monitor.project_root, security, monitor=monitor),
    ]


def standalone_routes(project_root: Path, security: TransportSecuritySettings) -> list[Route]:
    """The routes of ``pos-workflow dashboard``: the dashboard, ``/`` leading to it, approvals.

    Only this process a person starts serves the approval routes; the routes beside
    ``/mcp`` (:func:`monitoring_routes`) never do, since agents reach that server.
    """

    async def home(_: Request) -> Response:
        return RedirectResponse(DASHBOARD_PATH)

    approvals = Approvals(project_root)
    return [
        Route("/", home, methods=["GET"]),
        *dashboard_routes(project_root, security, approvals=approvals),
        *approvals.routes(security),
    ]
