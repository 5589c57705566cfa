"""pos_tool: the MCP server of pos_workflow.

One tool, ``pos_workflow``, exposes the engine's 14 actions; a registry file
chooses which tool groups a server registers. Build a server with
:func:`build_server` or register the tool on your own server with
:func:`register_workflow_tools`.
"""

from ._actions import ACTIONS, PARAMETERS, VALID_ACTIONS, ActionSpec, Backends, Parameter
from ._legacy_tools import (
    LEGACY_TOOL_NAMES,
    LEGACY_TOOLS,
    LegacyTool,
    call_legacy_tool,
    register_legacy_tools,
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
from ._server_info import package_version
from ._tool import TOOL_NAME, WorkflowResponse, dispatch, register_workflow_tools, tool_description
from .exceptions import RegistryError, ServerConfigError

__version__ = package_version("pos-tool")

__all__ = [
    "ACTIONS",
    "DEFAULT_GROUPS",
    "HTTP_PATH",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "MAX_HTTP_BODY_BYTES",
    "PARAMETERS",
    "REGISTRY_FILE",
    "TOOL_GROUPS",
    "TOOL_NAME",
    "VALID_ACTIONS",
    "ActionSpec",
    "Backends",
    "LegacyTool",
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
    "load_tool_registry",
    "register_legacy_tools",
    "register_workflow_tools",
    "registry_schema",
    "tool_description",
]
