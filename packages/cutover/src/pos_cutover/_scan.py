"""Find every mention of an old workflow tool in a project's agent instructions.

Scanned: ``.cursorrules``, ``CLAUDE.md``, ``AGENTS.md``, ``.cursor/rules/*.mdc``,
``.clinerules`` (a file, or a folder of rule files), and the markdown of the
workflow folders under ``.praxis-os/workflows/`` and ``universal/workflows/``.

Two old names (``get_task`` and ``complete_phase``) are also pos_workflow
action names, so a mention on a line that names
``pos_workflow`` or passes the name as an action (``action="get_task"``,
``"action": "get_task"``) is new-style and not reported.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._mapping import LEGACY_TOOL_NAMES, replacement_for

__all__ = ["INSTRUCTION_FILES", "WORKFLOW_FOLDERS", "Mention", "instruction_files", "scan_project"]

INSTRUCTION_FILES: tuple[str, ...] = (
    ".cursorrules",
    "CLAUDE.md",
    "AGENTS.md",
    ".cursor/rules/*.mdc",
    ".clinerules",
)
"""Agent instruction files, relative to the project (globs allowed)."""

WORKFLOW_FOLDERS: tuple[str, ...] = (".praxis-os/workflows", "universal/workflows")
"""Workflow folders whose markdown is scanned, relative to the project."""

_MAX_FILE_BYTES = 2 * 1024 * 1024
_NAMES = "|".join(sorted(LEGACY_TOOL_NAMES, key=len, reverse=True))
_MENTION = re.compile(rf"(?<![A-Za-z0-9_])({_NAMES})(?![A-Za-z0-9_])")
_ACTION_CONTEXT = re.compile(r"""action["']?\s*[=:]\s*["']?$""")
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
    for folder in WORKFLOW_FOLDERS:
        root = project / folder
        if root.is_dir():
            found.update(p for p in root.rglob("*.md") if p.is_file())
    return sorted(found)


def _mentions_in(project: Path, path: Path) -> list[Mention]:
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    rel = path.relative_to(project).as_posix()
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "pos_workflow" in line:
            continue
        for match in _MENTION.finditer(line):
            if _ACTION_CONTEXT.search(line[: match.start()]):
                continue
            tool = match.group(1)
            found.append(Mention(rel, number, tool, line.strip()[:160], replacement_for(tool)))
    return found


def scan_project(project: Path) -> list[Mention]:
    """Return every mention of an old tool in the project's agent instructions, by file and line."""
    mentions: list[Mention] = []
    for path in instruction_files(project):
        mentions.extend(_mentions_in(project, path))
    return mentions
