"""What the cutover knows about the praxis-os MCP server a project may still run.

praxis-os serves tool groups chosen in ``.praxis-os/config.json``
(``mcp.enabled_tool_groups``, ``["rag", "workflow", "browser"]`` when absent) and
always its two server-info tools. Its ``workflow`` group is what pos_workflow
replaces; ``rag`` (``search_standards``) and ``browser`` have no counterpart in
pos_workflow. So by default the cutover keeps the praxis server registered and
writes ``mcp.enabled_tool_groups`` without ``workflow`` (explicitly: the default
would bring it back); the praxis server then serves rag and browser only, and its
own ``pos_workflow`` tool (newer praxis versions have one) cannot clash with ours.
With ``--remove-praxis-server`` the clients stop launching it instead, and the
check names the tools agents lose.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ._changes import FileChange
from ._jsonedit import Editor, JsonEditError, parse
from ._mapping import LEGACY_TOOL_NAMES

__all__ = [
    "PRAXIS_CONFIG",
    "PRAXIS_DEFAULT_GROUPS",
    "PRAXIS_DEFAULT_PORT",
    "PRAXIS_GROUP_TOOLS",
    "PRAXIS_STATE_FILE",
    "PRAXIS_WORKFLOW_GROUP",
    "PraxisConfig",
    "PraxisMode",
    "config_change",
    "praxis_ports",
    "read_praxis_config",
    "recorded_port",
    "tools_of",
    "workflow_tool_names",
]

PRAXIS_CONFIG = ".praxis-os/config.json"
"""The praxis-os settings file, relative to the project."""

PRAXIS_STATE_FILE = ".praxis-os/.mcp_server_state.json"
"""Where a running praxis server records its HTTP port."""

PRAXIS_DEFAULT_GROUPS: tuple[str, ...] = ("rag", "workflow", "browser")
"""praxis-os's ``mcp.enabled_tool_groups`` when config.json does not set it."""

PRAXIS_WORKFLOW_GROUP = "workflow"
"""The praxis group that pos_workflow replaces."""

PRAXIS_DEFAULT_PORT = 4242
"""praxis-os's default HTTP port (its ``http_port``); a running server records the real one."""

PRAXIS_GROUP_TOOLS: dict[str, tuple[str, ...]] = {
    "rag": ("search_standards",),
    "workflow": (*LEGACY_TOOL_NAMES, "aos_workflow", "pos_workflow"),
    "browser": ("pos_browser", "aos_browser"),
}
"""The tools of each praxis tool group, across praxis-os versions (a version has one of
``aos_browser``/``pos_browser``, and the seven separate workflow tools or one consolidated one)."""

PraxisMode = Literal["keep", "remove"]
"""keep: the praxis server stays registered without its workflow group. remove: clients stop
launching it (its rag and browser tools are lost)."""


def workflow_tool_names() -> frozenset[str]:
    """Every tool name of the praxis workflow group (any version)."""
    return frozenset(PRAXIS_GROUP_TOOLS[PRAXIS_WORKFLOW_GROUP])


def tools_of(groups: tuple[str, ...]) -> list[str]:
    """The tools praxis serves for ``groups`` (unknown groups contribute nothing), in order."""
    return [tool for group in groups for tool in PRAXIS_GROUP_TOOLS.get(group, ())]


@dataclass
class PraxisConfig:
    """What ``.praxis-os/config.json`` says about the praxis server's tool groups.

    Attributes:
        exists: Whether the file exists.
        groups: The enabled groups (praxis's default when not set).
        explicit: Whether ``mcp.enabled_tool_groups`` is written in the file.
        error: Why the file cannot be used, when it cannot.
        text: The file's text (empty when absent).
        mode: The file's permission bits.
    """

    exists: bool
    groups: tuple[str, ...] = PRAXIS_DEFAULT_GROUPS
    explicit: bool = False
    error: str = ""
    text: str = ""
    mode: int = 0o644

    @property
    def workflow_enabled(self) -> bool:
        """Whether the praxis server would serve its workflow tools."""
        return not self.error and PRAXIS_WORKFLOW_GROUP in self.groups

    @property
    def kept_groups(self) -> tuple[str, ...]:
        """The groups left once ``workflow`` is taken away."""
        return tuple(g for g in self.groups if g != PRAXIS_WORKFLOW_GROUP)

    def describe(self) -> str:
        """One phrase: where the groups come from."""
        if not self.exists:
            return f"no {PRAXIS_CONFIG} (praxis default groups {list(PRAXIS_DEFAULT_GROUPS)})"
        if not self.explicit:
            return f"{PRAXIS_CONFIG} sets no mcp.enabled_tool_groups (default {list(self.groups)})"
        return f"{PRAXIS_CONFIG}: mcp.enabled_tool_groups {list(self.groups)}"


def read_praxis_config(project: Path) -> PraxisConfig:
    """Read the praxis server's tool groups from the project's config.json."""
    path = project / PRAXIS_CONFIG
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return PraxisConfig(exists=False)
    except OSError as exc:
        return PraxisConfig(True, error=f"{PRAXIS_CONFIG} cannot be read ({exc.strerror})")
    config = PraxisConfig(True, mode=path.stat().st_mode & 0o777)
    try:
        config.text = raw.decode("utf-8")
        data = parse(config.text, PRAXIS_CONFIG).value
    except UnicodeDecodeError:
        config.error = f"{PRAXIS_CONFIG} is not UTF-8 text"
        return config
    except JsonEditError as exc:
        config.error = exc.message
        return config
    mcp = data.get("mcp", {}) if isinstance(data, dict) else None
    if not isinstance(mcp, dict):
        config.error = f"{PRAXIS_CONFIG}: 'mcp' is not an object"
        return config
    if "enabled_tool_groups" in mcp:
        groups = mcp["enabled_tool_groups"]
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            config.error = f"{PRAXIS_CONFIG}: mcp.enabled_tool_groups is not a list of names"
            return config
        config.groups, config.explicit = tuple(groups), True
    return config


def _new_config(groups: tuple[str, ...]) -> str:
    return json.dumps({"mcp": {"enabled_tool_groups": list(groups)}}, indent=2) + "\n"


def config_change(config: PraxisConfig) -> FileChange | None:
    """Plan the config.json edit that takes the workflow group away from the praxis server.

    Returns None when nothing changes: the group is not enabled, or taking it away
    would leave no group (praxis refuses to start with none; its clients are then
    switched away from it instead).

    Raises:
        JsonEditError: config.json is not usable (see :attr:`PraxisConfig.error`).
    """
    if config.error:
        raise JsonEditError(config.error)
    kept = config.kept_groups
    if not config.workflow_enabled or not kept:
        return None
    summary = [
        f"mcp.enabled_tool_groups {list(config.groups)} -> {list(kept)}"
        + ("" if config.explicit else " (written explicitly: the default enables workflow)")
    ]
    if not config.exists:
        after = _new_config(kept).encode("utf-8")
        return FileChange(PRAXIS_CONFIG, "praxis-config", None, after, 0o644, summary)
    editor = Editor(config.text, PRAXIS_CONFIG)
    root = editor.root
    expected: dict[str, Any] = json.loads(json.dumps(root.value))
    expected.setdefault("mcp", {})["enabled_tool_groups"] = list(kept)
    mcp = root.get("mcp")
    if mcp is None:
        editor.insert(root, "mcp", {"enabled_tool_groups": list(kept)})
    else:
        current = mcp.get("enabled_tool_groups")
        if current is None:
            editor.insert(mcp, "enabled_tool_groups", list(kept))
        else:
            editor.replace(current, list(kept))
    after = editor.result(expected).encode("utf-8")
    before = config.text.encode("utf-8")
    return FileChange(PRAXIS_CONFIG, "praxis-config", before, after, config.mode, summary)


def recorded_port(project: Path) -> int | None:
    """The HTTP port a running praxis server of this project recorded, if any."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
        state = json.loads((project / PRAXIS_STATE_FILE).read_text(encoding="utf-8"))
        return int(state["port"])
    return None


def praxis_ports(project: Path) -> set[int]:
    """The ports a praxis server of this project may listen on: the recorded one and the default."""
    recorded = recorded_port(project)
    return {PRAXIS_DEFAULT_PORT} | ({recorded} if recorded else set())
