"""The clients of a project as a whole: every config, Claude Code's settings, user-level configs.

:func:`survey_clients` reads every project-level config of
:data:`~pos_cutover._clients.PROJECT_CLIENTS` and plans its rewrite
(:func:`~pos_cutover._clients.plan_client_file`), then Claude Code's project settings
(:func:`plan_claude_settings`: ``permissions.allow`` entries ``mcp__<server>__<tool>`` of
old workflow tools become ``mcp__pos-workflow__pos_workflow``, and ``pos-workflow`` is
enabled where the praxis server was), and reads the user-level configs
(:data:`USER_CLIENTS`), which it only reports.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._changes import ChangeOptions, FileChange
from ._clients import (
    NEW_ENTRY,
    PROJECT_CLIENTS,
    ClientFormat,
    PraxisEntry,
    plan_client_file,
    praxis_reason,
    read_config,
    server_tables,
    transport_of,
)
from ._jsonedit import Editor, JsonEditError, parse
from ._praxis import PraxisMode, recorded_port, workflow_tool_names

__all__ = [
    "CLAUDE_SETTINGS",
    "USER_CLIENTS",
    "ClientSurvey",
    "plan_claude_settings",
    "survey_clients",
]

_PERMISSION = re.compile(r"mcp__(?P<server>.+?)(?:__(?P<tool>.+))?")

CLAUDE_SETTINGS: tuple[str, ...] = (".claude/settings.json", ".claude/settings.local.json")
"""Claude Code project settings (tool permissions, enabled project servers)."""

USER_CLIENTS: tuple[ClientFormat, ...] = (
    ClientFormat(".cursor/mcp.json", "Cursor (user)"),
    ClientFormat(".claude.json", "Claude Code (user)"),
    ClientFormat(".codeium/windsurf/mcp_config.json", "Windsurf"),
    ClientFormat(".config/Claude/claude_desktop_config.json", "Claude Desktop"),
    ClientFormat("Library/Application Support/Claude/claude_desktop_config.json", "Claude Desktop"),
    *(
        ClientFormat(
            f"{base}/{app}/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
            "Cline",
        )
        for base in (".config", "Library/Application Support")
        for app in ("Code", "Cursor")
    ),
)
"""User-level client configs (relative to the home folder): read and reported, never changed."""


@dataclass
class ClientSurvey:
    """What the clients of a project look like and how the cutover would change them.

    Attributes:
        changes: The planned rewrite of each project config that needs one.
        entries: Every praxis entry found in project configs.
        user_entries: Praxis entries of this project found in user-level configs.
        notes: Things to know that change nothing (one line each, for a WARN).
        problems: Configs that cannot be read or rewritten (one line each, for a FAIL).
    """

    changes: list[FileChange] = field(default_factory=list)
    entries: list[PraxisEntry] = field(default_factory=list)
    user_entries: list[PraxisEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def plan_claude_settings(
    project: Path, relative: str, names: set[str], mode: PraxisMode
) -> FileChange | None:
    """Plan the rewrite of a Claude Code settings file's permissions and enabled servers.

    Raises:
        JsonEditError: The file cannot be read or parsed.
    """
    path = project / relative
    text = read_config(path, relative)
    editor = Editor(text, relative)
    expected = copy.deepcopy(editor.root.value)
    summary: list[str] = []
    old = workflow_tool_names()
    permissions = editor.root.get("permissions")
    allow = permissions.get("allow") if permissions is not None else None
    if allow is not None and isinstance(allow.value, list):
        new: list[Any] = []
        for item in allow.value:
            match = _PERMISSION.fullmatch(item) if isinstance(item, str) else None
            replaced = item
            if match and match["server"] in names and (match["tool"] in old or not match["tool"]):
                replaced = (
                    f"mcp__{NEW_ENTRY}__pos_workflow" if match["tool"] else f"mcp__{NEW_ENTRY}"
                )
                if not match["tool"] and item not in new:
                    new.append(item)
            if replaced not in new:
                new.append(replaced)
        if new != allow.value:
            editor.replace(allow, new)
            expected["permissions"]["allow"] = new
            summary.append(
                f"permissions.allow: old workflow tools -> mcp__{NEW_ENTRY}__pos_workflow"
            )
    enabled = editor.root.get("enabledMcpjsonServers")
    if enabled is not None and isinstance(enabled.value, list) and NEW_ENTRY not in enabled.value:
        listed: list[Any] = []
        for item in enabled.value:
            if item in names:
                if mode == "keep":
                    listed.append(item)
                if NEW_ENTRY not in listed:
                    listed.append(NEW_ENTRY)
            else:
                listed.append(item)
        if listed != enabled.value:
            editor.replace(enabled, listed)
            expected["enabledMcpjsonServers"] = listed
            summary.append(f"enabledMcpjsonServers: {enabled.value} -> {listed}")
    if not summary:
        return None
    after = editor.result(expected).encode("utf-8")
    bits = path.stat().st_mode & 0o777
    return FileChange(relative, "client", text.encode("utf-8"), after, bits, summary)


def _user_entries(project: Path, ports: set[int]) -> tuple[list[PraxisEntry], list[str]]:
    found: list[PraxisEntry] = []
    notes: list[str] = []
    home = Path.home()
    for fmt in USER_CLIENTS:
        path = home / fmt.path
        if not path.is_file():
            continue
        label = f"~/{fmt.path}"
        try:
            root = parse(read_config(path, label), label)
        except JsonEditError as exc:
            notes.append(f"{label} ({fmt.client}) was not read: {exc.message}")
            continue
        for section, _ in server_tables(root, fmt, project):
            for member in section.members:
                value = member.value.value
                if not isinstance(value, dict):
                    continue
                reason = praxis_reason(member.key, value, project, ports, user_level=True)
                if reason:
                    found.append(PraxisEntry(label, member.key, transport_of(value), reason))
    return found, notes


def survey_clients(project: Path, options: ChangeOptions, mode: PraxisMode) -> ClientSurvey:
    """Find every praxis entry of the project's clients and plan each config's rewrite."""
    survey = ClientSurvey()
    for fmt in PROJECT_CLIENTS:
        path = project / fmt.path
        if not path.exists() and not path.is_symlink():
            continue
        if path.is_symlink():
            survey.notes.append(
                f"{fmt.path} is a symbolic link: not rewritten (change the file it points to by hand)"
            )
            continue
        try:
            change, entries = plan_client_file(project, fmt, options, mode)
        except JsonEditError as exc:
            survey.problems.append(exc.message)
            continue
        survey.entries += entries
        if change is not None:
            survey.changes.append(change)
            survey.notes += [
                f"{fmt.path}: {NEW_ENTRY} reaches {options.http_url} over HTTP: nothing starts that "
                f"server for the client; run `pos-workflow serve --transport http --project-root "
                f"{project}` (with --host/--port of that URL), or cut over with --client-transport stdio"
                for e in change.entries
                if e["transport"] == "http"
            ]
    names = {e.name for e in survey.entries}
    for relative in CLAUDE_SETTINGS:
        path = project / relative
        if names and path.is_file() and not path.is_symlink():
            try:
                settings = plan_claude_settings(project, relative, names, mode)
            except JsonEditError as exc:
                survey.problems.append(exc.message)
                continue
            if settings is not None:
                survey.changes.append(settings)
    recorded = recorded_port(project)
    survey.user_entries, notes = _user_entries(project, {recorded} if recorded else set())
    survey.notes += notes
    return survey
