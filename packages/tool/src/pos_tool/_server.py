"""Build the MCP server for a project, over stdio or streamable HTTP."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pos_engine import SessionStore, WorkflowEngine
from starlette.applications import Starlette

from ._registry import TOOL_GROUPS, ServerParts, load_tool_registry
from ._server_info import package_version

__all__ = ["HTTP_PATH", "MAX_HTTP_BODY_BYTES", "build_http_app", "build_server", "serve_http"]

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
) -> MCPServer:
    """Create the MCP server for ``project_root`` with the tool groups its registry names.

    Args:
        project_root: The project whose workflows, registry and (by default) sessions are used.
        durable: ``fsync`` every session write of the default file store (turn off only
            for tests and scratch runs).
        store: Where sessions live instead of the project's file store (see
            :func:`pos_engine.open_store`); several servers may share one.

    Returns:
        The server, ready to run on any transport.

    Raises:
        RegistryError: ``.praxis-os/config/tool-registry.json`` is unusable.
    """
    root = Path(project_root)
    registry = load_tool_registry(root)
    engine = WorkflowEngine.for_project(root, durable=durable, store=store)
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


def build_http_app(server: MCPServer, *, host: str = "127.0.0.1", port: int = 8765) -> Starlette:
    """Return the streamable HTTP app of ``server`` at :data:`HTTP_PATH`.

    Host and Origin headers must name ``127.0.0.1`` or ``localhost`` (or ``host``)
    with ``port``; request bodies may be up to :data:`MAX_HTTP_BODY_BYTES`.
    """
    return server.streamable_http_app(
        streamable_http_path=HTTP_PATH,
        max_request_body_size=MAX_HTTP_BODY_BYTES,
        transport_security=_security(host, port),
        host=host,
    )


def serve_http(server: MCPServer, *, host: str, port: int, log_level: str) -> None:
    """Serve ``server`` over streamable HTTP until interrupted."""
    app = build_http_app(server, host=host, port=port)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(), log_config=None)
    uvicorn.Server(config).run()
