"""pos_tool: the MCP server of pos_workflow.

One tool, ``pos_workflow``, exposes the engine's 14 actions; a registry file
chooses which tool groups a server registers. Build a server with
:func:`build_server` or register the tool on your own server with
:func:`register_workflow_tools`. A server built here records metrics and evaluates
alerts (:class:`Monitor`); :func:`metrics_summary` reads what a project recorded.

Importing the package is cheap: each name is imported from its module on first use
(PEP 562), so ``pos-workflow --help`` and the cutover's commands that start no server
never import the MCP SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._defaults import package_version as _package_version

if TYPE_CHECKING:
    from ._actions import (
        ACTIONS,
        PARAMETERS,
        TOOL_NAME,
        VALID_ACTIONS,
        ActionSpec,
        Backends,
        Parameter,
    )
    from ._defaults import METRICS_ENV, package_version
    from ._faults import FAULTS_ENV, Faults, parse_faults
    from ._generated import GENERATED_FILES, request_schema, stale_generated_files
    from ._legacy_table import LEGACY_TOOL_NAMES, LEGACY_TOOLS, LegacyTool
    from ._legacy_tools import call_legacy_tool, register_legacy_tools
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
    from ._server import HTTP_PATH, MAX_HTTP_BODY_BYTES, build_http_app, build_server
    from ._stats import metrics_summary
    from ._store_cli import STORE_ENV
    from ._tool import (
        WorkflowResponse,
        dispatch,
        register_workflow_tools,
        tool_description,
    )
    from .exceptions import MonitoringConfigError, RegistryError, ServerConfigError

__version__ = _package_version("pos-tool")

_LAZY: dict[str, str] = {
    "package_version": "._defaults",
    "ACTIONS": "._actions",
    "PARAMETERS": "._actions",
    "VALID_ACTIONS": "._actions",
    "ActionSpec": "._actions",
    "Backends": "._actions",
    "Parameter": "._actions",
    "FAULTS_ENV": "._faults",
    "Faults": "._faults",
    "parse_faults": "._faults",
    "GENERATED_FILES": "._generated",
    "request_schema": "._generated",
    "stale_generated_files": "._generated",
    "LEGACY_TOOL_NAMES": "._legacy_table",
    "LEGACY_TOOLS": "._legacy_table",
    "LegacyTool": "._legacy_table",
    "call_legacy_tool": "._legacy_tools",
    "register_legacy_tools": "._legacy_tools",
    "LATENCY_BUCKETS": "._metrics",
    "METRICS_FILE": "._metrics_store",
    "Monitor": "._monitor",
    "monitor_of": "._monitor",
    "MONITORING_FILE": "._monitor_config",
    "AlertRule": "._monitor_config",
    "MonitoringConfig": "._monitor_config",
    "load_monitoring_config": "._monitor_config",
    "monitoring_schema": "._monitor_config",
    "DEFAULT_GROUPS": "._registry",
    "REGISTRY_FILE": "._registry",
    "TOOL_GROUPS": "._registry",
    "ServerParts": "._registry",
    "ToolGroup": "._registry",
    "ToolRegistry": "._registry",
    "load_tool_registry": "._registry",
    "registry_schema": "._registry",
    "HTTP_PATH": "._server",
    "MAX_HTTP_BODY_BYTES": "._server",
    "METRICS_ENV": "._defaults",
    "build_http_app": "._server",
    "build_server": "._server",
    "metrics_summary": "._stats",
    "STORE_ENV": "._store_cli",
    "TOOL_NAME": "._actions",
    "WorkflowResponse": "._tool",
    "dispatch": "._tool",
    "register_workflow_tools": "._tool",
    "tool_description": "._tool",
    "MonitoringConfigError": ".exceptions",
    "RegistryError": ".exceptions",
    "ServerConfigError": ".exceptions",
}
"""Every public name but ``__version__``, by the module that defines it.

A new public name goes here, in the ``TYPE_CHECKING`` imports (for type checkers) and in
``__all__``; ``test_cold_start.py`` resolves every name of ``__all__``."""

__all__ = [
    "ACTIONS",
    "DEFAULT_GROUPS",
    "FAULTS_ENV",
    "GENERATED_FILES",
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
    "STORE_ENV",
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
    "request_schema",
    "stale_generated_files",
    "tool_description",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, then keep it here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
