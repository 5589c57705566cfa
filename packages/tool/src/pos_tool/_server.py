"""Build the MCP server for a project, over stdio or streamable HTTP."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pos_engine import SessionStore, WorkflowEngine
from starlette.applications import Starlette
from starlette.routing import Route

from ._dashboard import monitoring_routes, standalone_routes
from ._defaults import METRICS_ENV, package_version
from ._http import (
    DEFAULT_LIMITS,
    TOKEN_ENV,
    GuardedH11Protocol,
    HttpLimits,
    StaticTokenVerifier,
    build_app,
    is_loopback,
    protect,
)
from ._monitor import Monitor, monitor_of
from ._monitor_config import load_monitoring_config
from ._registry import TOOL_GROUPS, ServerParts, load_tool_registry
from .exceptions import ServerConfigError

__all__ = [
    "HTTP_PATH",
    "MAX_HTTP_BODY_BYTES",
    "METRICS_ENV",
    "build_http_app",
    "build_server",
    "check_exposure",
    "serve_dashboard",
    "serve_http",
]

logger = logging.getLogger(__name__)

SERVER_NAME = "pos-workflow"

HTTP_PATH = "/mcp"
"""Where the streamable HTTP endpoint is served."""

MAX_HTTP_BODY_BYTES = 12 * 1024 * 1024
"""Largest HTTP request body accepted: a 10 MB evidence plus its JSON-RPC envelope.

The SDK's default (4 MiB) would answer a legal evidence with a bare 413; with
this limit an evidence over the engine's 10 MB gets the tool's clear LimitError.
"""

_INSTRUCTIONS = (
    "Use the pos_workflow tool to run phase-gated workflows: list_workflows, start one on a file, "
    "then work phase by phase (get_task, complete_phase with the checkpoint's evidence). "
    "If you lose track, call list_sessions or get_state and follow next_actions."
)


def build_server(
    project_root: str | os.PathLike[str],
    *,
    durable: bool = True,
    store: SessionStore | None = None,
    monitor: Monitor | None = None,
) -> MCPServer:
    """Create the MCP server for ``project_root`` with the tool groups its registry names.

    Args:
        project_root: The project whose workflows, registry and (by default) sessions are used.
        durable: ``fsync`` every session write of the default file store (turn off only
            for tests and scratch runs).
        store: Where sessions live instead of the project's file store (see
            :func:`pos_engine.open_store`); several servers may share one.
        monitor: Records metrics and evaluates alerts (default: one configured by the
            project's ``.praxis-os/config/monitoring.json``, none if it disables metrics).

    Returns:
        The server, ready to run on any transport. While it runs, its monitor flushes
        metrics to ``.praxis-os/metrics/metrics.db`` (see :func:`monitor_of`).

    Raises:
        RegistryError: ``.praxis-os/config/tool-registry.json`` is unusable.
        MonitoringConfigError: ``.praxis-os/config/monitoring.json`` is unusable.
    """
    root = Path(project_root)
    registry = load_tool_registry(root)
    config = load_monitoring_config(root)
    engine = WorkflowEngine.for_project(root, durable=durable, store=store)
    if monitor is None and config.enabled and os.environ.get(METRICS_ENV, "on") != "off":
        monitor = Monitor(root, config=config)
    if monitor is not None:
        monitor.watch_sessions(_session_sampler(engine))
    mcp: MCPServer = MCPServer(
        SERVER_NAME,
        title="praxis OS workflows",
        instructions=_INSTRUCTIONS,
        version=package_version("pos-tool"),
        lifespan=monitor.lifespan if monitor is not None else None,
    )
    parts = ServerParts(engine=engine, registry=registry, monitor=monitor)
    for name in registry.groups:
        TOOL_GROUPS[name].register(mcp, parts)
    if monitor is not None:
        monitor.attach(mcp)
    return mcp


def _session_sampler(engine: WorkflowEngine) -> Callable[[], Iterator[tuple[str, str]]]:
    store = engine.store

    def sample() -> Iterator[tuple[str, str]]:
        return ((summary.status, summary.workflow_type) for summary in store.list_summaries())

    return sample


def _is_unspecified(host: str) -> bool:
    """Whether ``host`` is a wildcard address (0.0.0.0, ::), which no client sends as Host."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _security(host: str, port: int) -> TransportSecuritySettings:
    """DNS-rebinding protection: only loopback names (and the bound host) on our port."""
    names = ["127.0.0.1", "localhost"]
    if host and host not in names and not _is_unspecified(host):
        names.append(f"[{host}]" if ":" in host else host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:{port}" for name in names],
        allowed_origins=[f"http://{name}:{port}" for name in names],
    )


def build_http_app(
    server: MCPServer,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    verifier: StaticTokenVerifier | None = None,
    limits: HttpLimits = DEFAULT_LIMITS,
) -> Starlette:
    """Return the streamable HTTP app of ``server`` at :data:`HTTP_PATH`.

    Host and Origin headers must name ``127.0.0.1`` or ``localhost`` (or ``host``)
    with ``port``; request bodies may be up to :data:`MAX_HTTP_BODY_BYTES`. With a
    ``verifier`` every route needs a bearer token it accepts; sessions are limited
    as ``limits`` says (see ``pos_tool._http``). The same app serves the monitoring
    routes (``/metrics``, ``/dashboard``) of a server with metrics on.
    """
    security = _security(host, port)
    app, _manager = build_app(
        server,
        path=HTTP_PATH,
        security=security,
        max_body_bytes=MAX_HTTP_BODY_BYTES,
        limits=limits,
        verifier=verifier,
    )
    _mount_monitoring(app, server, security, auth=verifier is not None)
    return app


def _mount_monitoring(
    app: Starlette, server: MCPServer, security: TransportSecuritySettings, *, auth: bool
) -> None:
    """Serve ``/metrics``, ``/dashboard`` and ``/dashboard/data`` beside the MCP endpoint.

    They are routes of the same Starlette app as :data:`HTTP_PATH`, behind the same Host
    check and, with tokens configured, the same bearer check (:func:`protect`).
    A server without a monitor (metrics disabled) serves none of them.
    """
    monitor = monitor_of(server)
    if monitor is None:
        return
    for route in monitoring_routes(monitor, security):
        # With tokens, the same bearer check as /mcp, around the route's own ASGI app.
        guarded = Route(route.path, protect(route.app, auth=True), methods=route.methods)
        app.router.routes.append(guarded if auth else route)


def check_exposure(host: str, *, authenticated: bool, insecure_no_auth: bool) -> None:
    """Refuse to serve a non-loopback address without authentication; warn when exposed.

    Raises:
        ServerConfigError: ``host`` is reachable from other machines, no token is
            configured and ``insecure_no_auth`` was not given.
    """
    if is_loopback(host):
        return
    if not authenticated and not insecure_no_auth:
        raise ServerConfigError(
            f"--host {host} is reachable from other machines and no auth token is configured",
            remediation=f"Configure a token (--auth-token-file FILE or ${TOKEN_ENV}), or bind "
            "127.0.0.1, or pass --insecure-no-auth to serve without authentication anyway.",
        )
    logger.warning(
        "serving on %s: reachable from other machines over plain HTTP%s; put a TLS proxy in "
        "front of it",
        host,
        "" if authenticated else " WITHOUT AUTHENTICATION (--insecure-no-auth)",
    )


def serve_http(
    server: MCPServer,
    *,
    host: str,
    port: int,
    log_level: str,
    verifier: StaticTokenVerifier | None = None,
    limits: HttpLimits = DEFAULT_LIMITS,
) -> None:
    """Serve ``server`` over streamable HTTP until interrupted (see :func:`build_http_app`)."""
    app = build_http_app(server, host=host, port=port, verifier=verifier, limits=limits)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        log_config=None,
        http=GuardedH11Protocol.configured(limits),
        timeout_keep_alive=5,
    )
    uvicorn.Server(config).run()


def build_dashboard_app(
    project_root: Path, *, host: str = "127.0.0.1", port: int = 8766
) -> Starlette:
    """The app of ``pos-workflow dashboard``: the project's dashboard, read from its metrics file."""
    return Starlette(routes=standalone_routes(project_root, _security(host, port)))


def serve_dashboard(project_root: Path, *, host: str, port: int, log_level: str) -> None:
    """Serve the dashboard of ``project_root`` until interrupted."""
    app = build_dashboard_app(project_root, host=host, port=port)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(), log_config=None)
    uvicorn.Server(config).run()
