"""The monitoring routes of the HTTP app: the dashboard page, its data, and ``/metrics``.

The page (``_dashboard_page``) is served by ``pos-workflow dashboard`` and, on the HTTP
transport, at ``/dashboard`` beside ``/mcp`` and ``/metrics``. Only the page of
``pos-workflow dashboard`` also lists and decides approvals (``_dashboard_approvals``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.to_thread
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ._dashboard_approvals import Approvals
from ._dashboard_page import (
    DASHBOARD_PATH,
    content_security_policy,
    dashboard_data,
    render_dashboard,
)
from ._defaults import DEFAULT_RANGE, RANGES
from ._monitor import Monitor
from ._prometheus import CONTENT_TYPE, exposition

__all__ = ["METRICS_PATH", "dashboard_routes", "monitoring_routes", "standalone_routes"]

METRICS_PATH = "/metrics"
"""Where the Prometheus exposition is served (HTTP transport only)."""


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
