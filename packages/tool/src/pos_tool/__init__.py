"""pos_tool: the MCP server of pos_workflow.

One tool, ``pos_workflow``, exposes the engine's 14 actions; a registry file
chooses which tool groups a server registers. Build a server with
:func:`build_server` or register the tool on your own server with
:func:`register_workflow_tools`. A server built here records metrics and evaluates
alerts (:class:`Monitor`); :func:`metrics_summary` reads what a project recorded.
"""

from ._actions import ACTIONS, PARAMETERS, VALID_ACTIONS, ActionSpec, Backends, Parameter
from ._faults import FAULTS_ENV, Faults, parse_faults
from ._legacy_tools import (
    LEGACY_TOOL_NAMES,
    LEGACY_TOOLS,
    LegacyTool,
    call_legacy_tool,
    register_legacy_tools,
)
from ._metrics import LATENCY_BUCKETS
from ._metrics_store import METRICS_FILE
from ._monitor import Monitor, monitor_of
from ._monitor_config import (
    MONITORING_FILE,
    AlertRule,
    MonitoringConfig,
    load_monitoring_config,
    monitoring_schema,
)
from ._registry import (
    DEFAULT_GROUPS,
    REGISTRY_FILE,
    TOOL_GROUPS,
    ServerParts,
    ToolGroup,
    ToolRegistry,
    load_tool_registry,
    registry_schema,
)
from ._server import HTTP_PATH, MAX_HTTP_BODY_BYTES, METRICS_ENV, build_http_app, build_server
from ._server_info import package_version
from ._stats import metrics_summary
from ._tool import TOOL_NAME, WorkflowResponse, dispatch, register_workflow_tools, tool_description
from .exceptions import MonitoringConfigError, RegistryError, ServerConfigError

__version__ = package_version("pos-tool")

__all__ = [
    "ACTIONS",
    "DEFAULT_GROUPS",
    "FAULTS_ENV",
    "HTTP_PATH",
    "LATENCY_BUCKETS",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "MAX_HTTP_BODY_BYTES",
    "METRICS_ENV",
    "METRICS_FILE",
    "MONITORING_FILE",
    "PARAMETERS",
    "REGISTRY_FILE",
    "TOOL_GROUPS",
    "TOOL_NAME",
    "VALID_ACTIONS",
    "ActionSpec",
    "AlertRule",
    "Backends",
    "Faults",
    "LegacyTool",
    "Monitor",
    "MonitoringConfig",
    "MonitoringConfigError",
    "Parameter",
    "RegistryError",
    "ServerConfigError",
    "ServerParts",
    "ToolGroup",
    "ToolRegistry",
    "WorkflowResponse",
    "__version__",
    "build_http_app",
    "build_server",
    "call_legacy_tool",
    "dispatch",
    "load_monitoring_config",
    "load_tool_registry",
    "metrics_summary",
    "monitor_of",
    "monitoring_schema",
    "package_version",
    "parse_faults",
    "register_legacy_tools",
    "register_workflow_tools",
    "registry_schema",
    "tool_description",
]
