"""IDE and client configs: find the entries that launch or reach the praxis server, plan their rewrite.

Project-level configs (see :data:`PROJECT_CLIENTS`) are rewritten; user-level ones
(``pos_cutover._client_survey.USER_CLIENTS``, in the home folder and shared by every
project) are only read, and an entry there that reaches this project's praxis
server is reported with the entry to add by hand: the cutover changes nothing
outside the project.

An entry reaches the praxis server when it launches ``python -m mcp_server``, runs
something under ``.praxis-os/`` (its venv, its PYTHONPATH), points at the praxis
HTTP endpoint (``127.0.0.1:<port>/mcp``; the port a running server recorded, else
4242), or carries the name praxis-os installs (``praxis-os``, ``agent-os-rag``).
An entry that already launches pos-workflow is left alone.

The rewrite (:func:`plan_client_file`) edits the text surgically (see
:mod:`pos_cutover._jsonedit`). With the praxis server kept, its entries stay and
lose the old workflow tools from their ``autoApprove``/``alwaysAllow`` lists, and a
``pos-workflow`` entry is added right after the first of them, auto-approving
``pos_workflow`` when an old workflow tool was auto-approved. With the praxis server
removed, its first entry is replaced in place by the ``pos-workflow`` entry (old
workflow names in its lists become ``pos_workflow``, other names are kept) and its
other entries are removed. Claude Code's ``.claude/settings*.json`` get the same
treatment for ``permissions.allow`` (``mcp__<server>__<tool>``) and
``enabledMcpjsonServers`` (see ``pos_cutover._client_survey``).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._changes import ChangeOptions, FileChange
from ._jsonedit import Editor, JsonEditError, Member, Node
from ._praxis import PraxisMode, praxis_ports, workflow_tool_names

__all__ = [
    "AUTO_APPROVE_KEYS",
    "NEW_ENTRY",
    "PROJECT_CLIENTS",
    "ROOT_VARIABLES",
    "ClientFormat",
    "PraxisEntry",
    "launches_pos_workflow",
    "plan_client_file",
    "praxis_reason",
    "reaches_pos_workflow",
    "read_config",
    "resolve_root",
    "server_tables",
    "transport_of",
]

NEW_ENTRY = "pos-workflow"
"""The name of the entry the cutover adds."""

AUTO_APPROVE_KEYS: tuple[str, ...] = ("autoApprove", "alwaysAllow")
"""Per-server lists of tools a client runs without asking (Cursor, Cline, Roo, Kiro)."""

ROOT_VARIABLES: tuple[str, ...] = (
    "${workspaceFolder}",
    "${workspaceRoot}",
    "${CLAUDE_PROJECT_DIR}",
)
"""How clients spell the project root inside their configs."""

_PRAXIS_NAME = re.compile(r"praxis|agent-os", re.IGNORECASE)
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass(frozen=True)
class ClientFormat:
    """Where a client keeps its MCP servers.

    Attributes:
        path: The file, relative to the project (or to the home folder for user configs).
        client: Who reads it.
        servers_key: The key of its server table (VS Code: ``servers``).
    """

    path: str
    client: str
    servers_key: str = "mcpServers"


PROJECT_CLIENTS: tuple[ClientFormat, ...] = (
    ClientFormat(".cursor/mcp.json", "Cursor"),
    ClientFormat(".mcp.json", "Claude Code"),
    ClientFormat(".vscode/mcp.json", "VS Code", "servers"),
    ClientFormat(".roo/mcp.json", "Roo Code"),
    ClientFormat(".kiro/settings/mcp.json", "Kiro"),
    ClientFormat(".gemini/settings.json", "Gemini CLI"),
)
"""Project-level client configs the cutover rewrites."""


@dataclass
class PraxisEntry:
    """A client entry that launches or reaches the praxis server.

    Attributes:
        file: The config file (project-relative, or ``~/...``).
        name: The entry's name.
        transport: stdio or http.
        reason: Why it counts as the praxis server.
    """

    file: str
    name: str
    transport: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """Return the entry as a JSON-able dict."""
        return {
            "file": self.file,
            "name": self.name,
            "transport": self.transport,
            "reason": self.reason,
        }


# ------------------------------------------------------------------ recognition


def _strings(entry: dict[str, Any]) -> list[str]:
    words = [entry.get("command"), *(entry.get("args") or []), entry.get("cwd")]
    env = entry.get("env")
    if isinstance(env, dict):
        words += list(env.values())
    return [w for w in words if isinstance(w, str)]


def launches_pos_workflow(entry: dict[str, Any]) -> bool:
    """Whether a client entry already starts pos-workflow (``pos-workflow``, ``pos_tool``)."""
    return any("pos-workflow" in w or "pos_tool" in w for w in _strings(entry))


def reaches_pos_workflow(name: str, entry: dict[str, Any], http_url: str) -> bool:
    """Whether a client entry launches pos-workflow, or reaches it over HTTP (by URL or name)."""
    url = _url(entry)
    if url is not None:
        return name == NEW_ENTRY or url.rstrip("/") == http_url.rstrip("/")
    return launches_pos_workflow(entry)


def transport_of(entry: dict[str, Any]) -> str:
    """``http`` for an entry with a URL, ``stdio`` for one with a command."""
    return "http" if _url(entry) is not None else "stdio"


def _url(entry: dict[str, Any]) -> str | None:
    for key in ("url", "serverUrl"):
        value = entry.get(key)
        if isinstance(value, str):
            return value
    return None


def praxis_reason(
    name: str, entry: dict[str, Any], project: Path, ports: set[int], *, user_level: bool = False
) -> str | None:
    """Why ``entry`` launches or reaches this project's praxis server (None: it does not).

    A user-level entry must also name this project (its absolute path, or a
    project-root variable the client fills in); an HTTP one must use the port a
    running praxis server of this project recorded.
    """
    if launches_pos_workflow(entry):
        return None
    url = _url(entry)
    if url is not None:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.hostname in _LOOPBACK and port in ports and parts.path.rstrip("/") == "/mcp":
            return f"reaches the praxis HTTP endpoint {url}"
        if not user_level and _PRAXIS_NAME.search(name):
            return f"named like the praxis server ({url})"
        return None
    words = _strings(entry)
    joined = " ".join(words)
    if user_level and str(project) not in joined and not any(v in joined for v in ROOT_VARIABLES):
        return None
    args = [a for a in entry.get("args") or [] if isinstance(a, str)]
    if any(a == "-m" and b == "mcp_server" for a, b in itertools.pairwise(args)):
        return f"launches {Path(str(entry.get('command'))).name} -m mcp_server"
    if ".praxis-os/" in joined:
        return "runs the praxis server from .praxis-os/"
    if not user_level and _PRAXIS_NAME.search(name):
        return "named like the praxis server"
    return None


def resolve_root(text: str, project: Path) -> str:
    """Replace the clients' project-root variables in ``text`` with the project's path."""
    for variable in ROOT_VARIABLES:
        text = text.replace(variable, str(project))
    return text


# -------------------------------------------------------------------- new entry


def _root_variable(entry: dict[str, Any]) -> str | None:
    text = json.dumps(entry)
    for variable in ROOT_VARIABLES:
        if variable in text:
            return variable
    return None


def _new_entry(
    model: dict[str, Any],
    fmt: ClientFormat,
    project: Path,
    options: ChangeOptions,
    auto: dict[str, list[str]],
) -> tuple[dict[str, Any], str]:
    """The pos-workflow entry modelled on a praxis entry; and its transport."""
    entry: dict[str, Any] = {}
    if _url(model) is not None and options.client_transport == "same":
        for key in ("type", "transport"):
            if key in model:
                entry[key] = model[key]
        entry["serverUrl" if "serverUrl" in model else "url"] = options.http_url
        transport = "http"
    else:
        if "type" in model:
            entry["type"] = "stdio"
        variable = _root_variable(model)
        root = variable or str(project)
        command = list(options.command())
        first = Path(command[0])
        if variable and first.is_absolute() and first.is_relative_to(project):
            command[0] = f"{variable}/{first.relative_to(project).as_posix()}"
        entry["command"] = command[0]
        entry["args"] = [*command[1:], "serve", "--project-root", root]
        transport = "stdio"
    entry.update(auto)
    return entry, transport


def _auto_lists(entry: dict[str, Any]) -> dict[str, list[str]]:
    return {
        k: list(v)
        for k in AUTO_APPROVE_KEYS
        if isinstance(v := entry.get(k), list) and all(isinstance(x, str) for x in v)
    }


def _mapped(names: list[str], old: frozenset[str]) -> list[str]:
    """Old workflow names become pos_workflow (once, where the first was), others stay."""
    out: list[str] = []
    for name in names:
        new = "pos_workflow" if name in old else name
        if new not in out:
            out.append(new)
    return out


# --------------------------------------------------------------------- rewrite


@dataclass
class _Plan:
    """The rewrite of one config file under way."""

    editor: Editor
    fmt: ClientFormat
    project: Path
    options: ChangeOptions
    mode: PraxisMode
    expected: Any = None
    summary: list[str] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)


def _rewrite_section(
    plan: _Plan, section: Node, keys: list[str], found: list[tuple[Member, str]]
) -> None:
    """Rewrite one server table (at ``keys`` in the file) holding the praxis entries ``found``."""
    fmt, project, options, mode = plan.fmt, plan.project, plan.options, plan.mode
    old = workflow_tool_names()
    servers = plan.expected
    for name in keys:
        servers = servers[name]
    key = keys[-1]
    existing = section.member(NEW_ENTRY)
    ours = [
        m
        for m in section.members
        if isinstance(m.value.value, dict)
        and reaches_pos_workflow(m.key, m.value.value, options.http_url)
    ]
    if existing is not None and existing not in ours:
        raise JsonEditError(
            f"{fmt.path}: an entry named {NEW_ENTRY!r} exists and does not launch pos-workflow",
            remediation=f"Rename that entry, then run again (the cutover adds {NEW_ENTRY!r}).",
        )
    stdio = [m for m, _ in found if _url(m.value.value) is None]
    model = (stdio or [m for m, _ in found])[0]
    approved = [n for m, _ in found for lst in _auto_lists(m.value.value).values() for n in lst]
    wanted_auto = {
        k: ["pos_workflow"] for k in _auto_lists(model.value.value) if set(approved) & old
    }
    if mode == "keep":
        for member, _ in found:
            for list_key, names in _auto_lists(member.value.value).items():
                kept = [n for n in names if n not in old]
                if kept != names:
                    node = member.value.get(list_key)
                    assert node is not None  # noqa: S101 - found by _auto_lists
                    plan.editor.replace(node, kept)
                    servers[member.key][list_key] = kept
                    gone = ", ".join(n for n in names if n in old)
                    plan.summary.append(f"{member.key}: {list_key} loses {gone}")
        if not ours:
            entry, transport = _new_entry(model.value.value, fmt, project, options, wanted_auto)
            plan.editor.insert(
                section, NEW_ENTRY, entry, after=model, inline_lists=_inline(plan, model)
            )
            servers[NEW_ENTRY] = entry
            plan.entries.append({"name": NEW_ENTRY, "transport": transport, "section": key})
            plan.summary.append(f"adds {NEW_ENTRY} ({_describe(entry)}) after {model.key}")
        return
    mapped = {k: _mapped(v, old) for k, v in _auto_lists(model.value.value).items()}
    entry, transport = _new_entry(model.value.value, fmt, project, options, mapped)
    for member, _ in found:
        del servers[member.key]
    if ours:
        plan.editor.remove(section, *(m for m, _ in found))
        plan.summary.append(f"removes {', '.join(m.key for m, _ in found)} (praxis server)")
        return
    plan.editor.replace_member(model, NEW_ENTRY, entry, section, inline_lists=_inline(plan, model))
    plan.editor.remove(section, *(m for m, _ in found if m is not model))
    servers[NEW_ENTRY] = entry
    plan.entries.append({"name": NEW_ENTRY, "transport": transport, "section": key})
    replaced = ", ".join(m.key for m, _ in found)
    plan.summary.append(
        f"replaces {replaced} (praxis server) with {NEW_ENTRY} ({_describe(entry)})"
    )


def _inline(plan: _Plan, model: Member) -> bool:
    """Whether the model entry writes its lists (args) on one line."""
    lists = [
        m.value for m in model.value.members if isinstance(m.value.value, list) and m.value.items
    ]
    return bool(lists) and all("\n" not in plan.editor.text[n.start : n.end] for n in lists)


def _describe(entry: dict[str, Any]) -> str:
    url = _url(entry)
    what = url if url else " ".join([entry["command"], *entry["args"]])
    lists = [f"{k} {entry[k]}" for k in AUTO_APPROVE_KEYS if k in entry]
    return what + (f"; {'; '.join(lists)}" if lists else "")


def server_tables(root: Node, fmt: ClientFormat, project: Path) -> list[tuple[Node, list[str]]]:
    """The server tables of a config: (node, the keys that lead to it)."""
    found = []
    table = root.get(fmt.servers_key)
    if table is not None and isinstance(table.value, dict):
        found.append((table, [fmt.servers_key]))
    projects = root.get("projects")  # ~/.claude.json keeps per-project servers
    own = projects.get(str(project)) if projects is not None else None
    table = own.get("mcpServers") if own is not None else None
    if table is not None and isinstance(table.value, dict):
        found.append((table, ["projects", str(project), "mcpServers"]))
    return found


def read_config(path: Path, label: str) -> str:
    """The text of a config file.

    Raises:
        JsonEditError: It is not UTF-8 or cannot be read.
    """
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise JsonEditError(f"{label} is not UTF-8 text") from None
    except OSError as exc:
        raise JsonEditError(f"{label} cannot be read ({exc.strerror})") from None


def plan_client_file(
    project: Path, fmt: ClientFormat, options: ChangeOptions, mode: PraxisMode
) -> tuple[FileChange | None, list[PraxisEntry]]:
    """Plan the rewrite of one project client config (None: nothing to change).

    Raises:
        JsonEditError: The file cannot be read, parsed or rewritten safely.
    """
    path = project / fmt.path
    text = read_config(path, fmt.path)
    plan = _Plan(Editor(text, fmt.path), fmt, project, options, mode)
    plan.expected = copy.deepcopy(plan.editor.root.value)
    ports = praxis_ports(project)
    entries: list[PraxisEntry] = []
    for section, keys in server_tables(plan.editor.root, fmt, project):
        found = []
        for member in section.members:
            value = member.value.value
            reason = (
                praxis_reason(member.key, value, project, ports)
                if isinstance(value, dict)
                else None
            )
            if reason:
                found.append((member, reason))
                entries.append(PraxisEntry(fmt.path, member.key, transport_of(value), reason))
        if found:
            _rewrite_section(plan, section, keys, found)
    if not plan.summary:
        return None, entries
    after = plan.editor.result(plan.expected).encode("utf-8")
    mode_bits = path.stat().st_mode & 0o777
    change = FileChange(fmt.path, "client", text.encode("utf-8"), after, mode_bits, plan.summary)
    change.entries = plan.entries
    return change, entries
