"""The tool registry: which groups of tools a server registers.

A project chooses its tool surface in ``.praxis-os/config/tool-registry.json``
(schema: ``specs/tool-registry.schema.json``, shipped as
``pos_tool/schemas/tool-registry.schema.json``). Without the file the server
registers :data:`DEFAULT_GROUPS`. Group names are checked against
:data:`TOOL_GROUPS`, so adding a group is one entry there and no schema change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from pos_engine import (
    BoundedInputError,
    WorkflowEngine,
    parse_json_bounded,
    read_bounded_text,
    schema_problems,
)

from ._actions import TOOL_NAME, VALID_ACTIONS
from ._legacy_table import LEGACY_TOOL_NAMES
from .exceptions import RegistryError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ._monitor import Monitor

__all__ = [
    "DEFAULT_GROUPS",
    "REGISTRY_FILE",
    "TOOL_GROUPS",
    "ServerParts",
    "ToolGroup",
    "ToolRegistry",
    "load_tool_registry",
    "registry_schema",
]

REGISTRY_FILE = ".praxis-os/config/tool-registry.json"
"""Where a project keeps its tool registry, relative to the project root."""

DEFAULT_GROUPS: tuple[str, ...] = ("workflow", "server_info")
"""The groups registered when the project has no registry file (the post-cutover surface)."""

_MAX_SHOWN_PROBLEMS = 5


@dataclass
class ServerParts:
    """What tool groups register against: one engine (and store) for every group.

    Attributes:
        engine: The workflow engine; ``engine.state_manager`` shares its store.
        registry: The registry the server was built from.
        tools: Names of the tools registered so far, in registration order.
        monitor: Records every tool call (None: no metrics).
    """

    engine: WorkflowEngine
    registry: ToolRegistry
    tools: list[str] = field(default_factory=list)
    monitor: Monitor | None = None


@dataclass(frozen=True)
class ToolGroup:
    """A named set of tools that the registry can switch on.

    Attributes:
        name: The group name used in the registry file.
        description: One line for humans.
        tools: The names of the tools the group registers.
        register: Registers the group's tools on a server.
    """

    name: str
    description: str
    tools: tuple[str, ...]
    register: Callable[[MCPServer, ServerParts], None]


# The groups import their tools (and so the MCP SDK) when they register, never before:
# reading or checking a registry (the cutover's report, ``pos-workflow stats``) needs no server.
def _register_workflow(mcp: MCPServer, parts: ServerParts) -> None:
    from ._tool import register_workflow_tools  # noqa: PLC0415 - see above

    register_workflow_tools(mcp, parts.engine, parts.engine.state_manager, monitor=parts.monitor)
    parts.tools.append(TOOL_NAME)


def _register_legacy(mcp: MCPServer, parts: ServerParts) -> None:
    from ._legacy_tools import register_legacy_tools  # noqa: PLC0415 - see above

    register_legacy_tools(mcp, parts)


def _register_server_info(mcp: MCPServer, parts: ServerParts) -> None:
    from ._server_info import register_server_info_tools  # noqa: PLC0415 - see above

    register_server_info_tools(mcp, parts)


TOOL_GROUPS: dict[str, ToolGroup] = {
    group.name: group
    for group in (
        ToolGroup(
            "workflow",
            f"the consolidated pos_workflow tool ({len(VALID_ACTIONS)} actions)",
            (TOOL_NAME,),
            _register_workflow,
        ),
        ToolGroup(
            "workflow_legacy",
            "the archived workflow tools, kept so that a rollback can restore them",
            LEGACY_TOOL_NAMES,
            _register_legacy,
        ),
        ToolGroup(
            "server_info",
            "server facts and the current date",
            ("get_server_info", "current_date"),
            _register_server_info,
        ),
    )
}
"""Every known tool group by name. Add a group here; the registry schema needs no change."""


@dataclass(frozen=True)
class ToolRegistry:
    """The groups a server registers and where that choice came from.

    Attributes:
        groups: Group names, in the order they are registered.
        source: ``REGISTRY_FILE`` when read from the project, ``"default"`` otherwise.
        description: The file's free-text description, if any.
    """

    groups: tuple[str, ...] = DEFAULT_GROUPS
    source: str = "default"
    description: str | None = None

    @property
    def tools(self) -> tuple[str, ...]:
        """The names of every tool the registry's groups register."""
        return tuple(tool for name in self.groups for tool in TOOL_GROUPS[name].tools)


@cache
def packaged_schema(name: str) -> dict[str, Any]:
    """Return ``pos_tool/schemas/<name>``, the package's copy of ``specs/<name>``."""
    text = resources.files("pos_tool").joinpath(f"schemas/{name}").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def registry_schema() -> dict[str, Any]:
    """Return the tool registry JSON Schema shipped inside the package."""
    return packaged_schema("tool-registry.schema.json")


def read_config_json(
    path: Path, file: str, error: Callable[[str, str], Exception], *, limit: int = 64 * 1024
) -> Any:
    """Read a project's JSON settings file: a regular, small, UTF-8 file, nested 64 deep at most.

    A project may link its settings elsewhere, so a symlink is followed, but a FIFO or a
    device is refused and never read.

    Raises:
        Exception: ``error(file, problem)`` (e.g. RegistryError) saying what is wrong; it
            names the file relative to the project, never an absolute path.
    """
    try:
        return parse_json_bounded(read_bounded_text(path, limit=limit, follow_symlinks=True))
    except BoundedInputError as exc:
        raise error(file, str(exc)) from None
    except OSError as exc:
        # str(exc) names the absolute path; the error names only the relative one.
        raise error(file, f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def schema_mismatch(name: str, data: object) -> str | None:
    """Why ``data`` does not match the packaged schema ``name`` (None when it does).

    The first few problems are named with their JSON pointers, then how many more.
    """
    problems = schema_problems(Draft202012Validator(packaged_schema(name)), data)
    if not problems:
        return None
    return f"does not match specs/{name}: " + problems.summary(_MAX_SHOWN_PROBLEMS)


def load_tool_registry(project_root: str | os.PathLike[str]) -> ToolRegistry:
    """Read and check ``<project_root>/.praxis-os/config/tool-registry.json``.

    Args:
        project_root: The project whose registry file is read.

    Returns:
        The registry; the default groups when the file does not exist.

    Raises:
        RegistryError: The file cannot be read, is not JSON, violates the schema
            or names an unknown group. The message names the file relative to the
            project and every problem found.
    """
    path = Path(project_root) / REGISTRY_FILE
    if not path.exists() and not path.is_symlink():
        return ToolRegistry()
    data = read_config_json(path, REGISTRY_FILE, RegistryError)
    mismatch = schema_mismatch("tool-registry.schema.json", data)
    if mismatch is not None:
        raise RegistryError(REGISTRY_FILE, mismatch)
    groups = tuple(data["groups"])
    unknown = [name for name in groups if name not in TOOL_GROUPS]
    if unknown:
        known = ", ".join(sorted(TOOL_GROUPS))
        noun = "group" if len(unknown) == 1 else "groups"
        raise RegistryError(
            REGISTRY_FILE,
            f"names unknown {noun} {', '.join(repr(n) for n in unknown)}; known groups: {known}",
            remediation=(
                f"Use only known groups ({known}) in 'groups', or delete the file for the default."
            ),
        )
    return ToolRegistry(groups=groups, source=REGISTRY_FILE, description=data.get("description"))
