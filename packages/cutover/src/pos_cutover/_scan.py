"""Find every mention of an old workflow tool in what a project's agents read.

Scanned: ``.cursorrules``, ``CLAUDE.md``, ``AGENTS.md``, ``GEMINI.md``,
``.windsurfrules``, ``.github/copilot-instructions.md``, ``.claude/CLAUDE.md``,
``.cursor/rules/`` and ``.clinerules`` (a file, or a folder of rule files), the
standards agents search (``.praxis-os/standards/``), and the markdown of the
workflow folders under ``.praxis-os/workflows/`` and ``universal/workflows/``
(phase and task files).

A mention is the bare name (``get_task``) or the name as a client prefixes it
(``mcp_agent-os-rag_get_task`` in Cursor, ``mcp__agent-os-rag__get_task`` in Claude
Code). Two old names (``get_task`` and ``complete_phase``) are also pos_workflow
action names, so a mention on a line that names ``pos_workflow`` or passes the
name as an action (``action="get_task"``, ``"action": "get_task"``) is new-style
and not reported.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._mapping import LEGACY_TOOL_NAMES, replacement_for

__all__ = [
    "ACTION_CONTEXT",
    "INSTRUCTION_FILES",
    "MARKDOWN_FOLDERS",
    "MENTION",
    "Mention",
    "instruction_files",
    "scan_project",
    "scan_text",
]

INSTRUCTION_FILES: tuple[str, ...] = (
    ".cursorrules",
    "CLAUDE.md",
    "AGENTS.md",
    "GEMINI.md",
    ".windsurfrules",
    ".github/copilot-instructions.md",
    ".claude/CLAUDE.md",
    ".cursor/rules",
    ".clinerules",
)
"""Agent instruction files (or folders of rule files), relative to the project (globs allowed)."""

MARKDOWN_FOLDERS: tuple[str, ...] = (
    ".praxis-os/standards",
    ".praxis-os/workflows",
    "universal/workflows",
)
"""Folders whose markdown agents read (standards, workflow phases and tasks), relative to the project."""

_MAX_FILE_BYTES = 2 * 1024 * 1024
_NAMES = "|".join(sorted(LEGACY_TOOL_NAMES, key=len, reverse=True))
MENTION = re.compile(
    rf"(?<![A-Za-z0-9_])(?P<prefix>mcp__?[A-Za-z0-9][A-Za-z0-9_-]*?_{{1,2}})?"
    rf"(?P<tool>{_NAMES})(?![A-Za-z0-9_])"
)
"""An old tool name, bare or with a client's ``mcp_<server>_`` / ``mcp__<server>__`` prefix."""
ACTION_CONTEXT = re.compile(r"""action["']?\s*[=:]\s*["']?$""")
"""Text that ends where a name is passed as a pos_workflow action (new style)."""
_RULE_SUFFIXES = {".md", ".mdc", ".txt", ""}


@dataclass(frozen=True)
class Mention:
    """One mention of an old tool.

    Attributes:
        file: The file, relative to the project, in POSIX form.
        line: The 1-based line number.
        tool: The old tool named.
        text: The line, stripped and cut to 160 characters.
        replacement: The pos_workflow call that replaces the old tool.
    """

    file: str
    line: int
    tool: str
    text: str
    replacement: str

    @property
    def location(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        """Return the mention as a JSON-able dict (with ``location``)."""
        return {**asdict(self), "location": self.location}


def instruction_files(project: Path) -> list[Path]:
    """Return every existing file the scan reads, sorted, without duplicates."""
    found: set[Path] = set()
    for pattern in INSTRUCTION_FILES:
        for path in project.glob(pattern):
            if path.is_file():
                found.add(path)
            elif path.is_dir():
                found.update(
                    p for p in path.rglob("*") if p.is_file() and p.suffix in _RULE_SUFFIXES
                )
    for folder in MARKDOWN_FOLDERS:
        root = project / folder
        if root.is_dir():
            found.update(p for p in root.rglob("*.md") if p.is_file())
    return sorted(found)


def scan_text(rel: str, text: str) -> list[Mention]:
    """Return every mention of an old tool in ``text`` (the file ``rel``), by line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "pos_workflow" in line:
            continue
        for match in MENTION.finditer(line):
            if ACTION_CONTEXT.search(line[: match.start()]):
                continue
            tool = match["tool"]
            found.append(Mention(rel, number, tool, line.strip()[:160], replacement_for(tool)))
    return found


def _mentions_in(project: Path, path: Path) -> list[Mention]:
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return scan_text(path.relative_to(project).as_posix(), text)


def scan_project(project: Path) -> list[Mention]:
    """Return every mention of an old tool in the project's agent instructions, by file and line."""
    mentions: list[Mention] = []
    for path in instruction_files(project):
        mentions.extend(_mentions_in(project, path))
    return mentions
