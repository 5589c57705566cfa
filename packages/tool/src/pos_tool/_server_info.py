"""The ``server_info`` tool group: ``get_server_info`` and ``current_date``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from ._defaults import package_version
from ._envelope import new_error_id

if TYPE_CHECKING:
    from ._registry import ServerParts

__all__ = [
    "AlertFiring",
    "CurrentDate",
    "MonitoringInfo",
    "ServerInfo",
    "register_server_info_tools",
]

logger = logging.getLogger(__name__)

_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class AlertFiring(BaseModel):
    """An alert firing on this server."""

    alert: str
    since: str
    value: float
    threshold: float
    summary: str


class MonitoringInfo(BaseModel):
    """This server's monitoring: metrics file, uptime, memory, alerts firing, faults injected."""

    metrics_file: str
    storage_problem: str | None
    uptime_seconds: float
    rss_mb: float | None
    alerts_firing: list[AlertFiring]
    faults: str | None


class ServerInfo(BaseModel):
    """What this server is and what it holds (``monitoring`` is null with metrics off)."""

    server: str
    version: str
    engine_version: str
    project: str
    tools: list[str]
    tool_groups: list[str]
    registry: str
    workflow_count: int
    store: str
    sessions: dict[str, int]
    monitoring: MonitoringInfo | None


class CurrentDate(BaseModel):
    """The current date and time, in UTC and in the server's local time zone."""

    utc_datetime: str
    utc_date: str
    local_datetime: str
    local_date: str
    timezone: str
    weekday: str


def _server_info(parts: ServerParts) -> ServerInfo:
    engine = parts.engine
    return ServerInfo(
        server="pos-workflow",
        version=package_version("pos-tool"),
        engine_version=package_version("pos-engine"),
        project=engine.project_root.resolve().name,
        tools=list(parts.tools),
        tool_groups=list(parts.registry.groups),
        registry=parts.registry.source,
        workflow_count=engine.list_workflows()["count"],
        store=engine.store.kind,
        sessions=engine.store.count_by_status(),
        monitoring=MonitoringInfo(**parts.monitor.info()) if parts.monitor is not None else None,
    )


def current_date_now(now: datetime | None = None) -> CurrentDate:
    """Return the current date (or that of ``now``, an aware datetime) in UTC and local time."""
    utc = (now or datetime.now(UTC)).astimezone(UTC)
    local = utc.astimezone()
    return CurrentDate(
        utc_datetime=utc.isoformat(timespec="seconds"),
        utc_date=utc.date().isoformat(),
        local_datetime=local.isoformat(timespec="seconds"),
        local_date=local.date().isoformat(),
        timezone=local.tzname() or "local",
        weekday=local.strftime("%A"),
    )


def register_server_info_tools(mcp: MCPServer, parts: ServerParts) -> None:
    """Register ``get_server_info`` and ``current_date`` on ``mcp``."""

    async def get_server_info() -> ServerInfo:
        """Server version, tools, workflow count, store, sessions by status, alerts firing."""
        try:
            return await anyio.to_thread.run_sync(_server_info, parts)
        except Exception:
            error_id = new_error_id()
            logger.exception("get_server_info failed [error_id=%s]", error_id)
            raise ToolError(
                f"internal error while reading server info (error id {error_id})"
            ) from None

    async def current_date() -> CurrentDate:
        """The current date and time: UTC (ISO 8601) and the server's local date."""
        return current_date_now()

    mcp.add_tool(get_server_info, annotations=_READ_ONLY, structured_output=True)
    mcp.add_tool(current_date, annotations=_READ_ONLY, structured_output=True)
    parts.tools.extend(["get_server_info", "current_date"])
