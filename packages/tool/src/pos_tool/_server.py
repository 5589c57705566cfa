"""Build the MCP server for a project, over stdio or streamable HTTP."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pos_engine import WorkflowEngine
from starlette.applications import Starlette

from ._http import (
    DEFAULT_LIMITS,
    TOKEN_ENV,
    GuardedH11Protocol,
    HttpLimits,
    StaticTokenVerifier,
    build_app,
    is_loopback,
)
from ._registry import TOOL_GROUPS, ServerParts, load_tool_registry
from ._server_info import package_version
from .exceptions import ServerConfigError

__all__ = [
    "HTTP_PATH",
    "MAX_HTTP_BODY_BYTES",
    "build_http_app",
    "build_server",
    "check_exposure",
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


def build_server(project_root: str | os.PathLike[str], *, durable: bool = True) -> MCPServer:
    """Create the MCP server for ``project_root`` with the tool groups its registry names.

    Args:
        project_root: The project whose workflows, sessions and registry are used.
        durable: ``fsync`` every session write (turn off only for tests and scratch runs).

    Returns:
        The server, ready to run on any transport.

    Raises:
        RegistryError: ``.praxis-os/config/tool-registry.json`` is unusable.
    """
    root = Path(project_root)
    registry = load_tool_registry(root)
    engine = WorkflowEngine.for_project(root, durable=durable)
    mcp: MCPServer = MCPServer(
        SERVER_NAME,
        title="praxis OS workflows",
        instructions=_INSTRUCTIONS,
        version=package_version("pos-tool"),
    )
    parts = ServerParts(engine=engine, registry=registry)
    for name in registry.groups:
        TOOL_GROUPS[name].register(mcp, parts)
    return mcp


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
    as ``limits`` says (see ``pos_tool._http``).
    """
    app, _manager = build_app(
        server,
        path=HTTP_PATH,
        security=_security(host, port),
        max_body_bytes=MAX_HTTP_BODY_BYTES,
        limits=limits,
        verifier=verifier,
    )
    return app


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
