"""Agent instructions: group the old tool mentions by file, and rewrite them as pos_workflow calls.

:func:`group_mentions` turns the scan's per-line mentions into one line per file
with a count (what the check prints; ``--verbose`` prints every mention). With
``--rewrite-instructions`` the cutover plans :func:`plan_instruction_changes`:
each mention of an old tool that maps onto one pos_workflow action with the same
parameters (see :data:`pos_cutover._mapping.LEGACY_TOOLS`) is rewritten:

- a call, ``get_task(session_id, phase=1, task_number=1)`` (possibly spread over
  lines, possibly with a client prefix such as ``mcp_agent-os-rag_``), becomes
  ``pos_workflow(action="get_task", session_id=session_id, phase=1, task_number=1)``:
  positional arguments get their parameter's name, everything else stays as written;
- a bare mention, ``use get_current_phase``, becomes ``use pos_workflow(action="get_phase")``.

A mention inside quotes (a tool name as data, ``"get_task"``), a call whose
parentheses do not close, and the tools with no single replacement
(``create_workflow``, ``validate_workflow``) are left as they are and reported, so
that a human finishes them. The files are backed up and a rollback restores them
byte for byte, like every other file the cutover changes.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ._changes import FileChange
from ._mapping import LEGACY_TOOLS
from ._scan import ACTION_CONTEXT, MENTION, Mention, instruction_files

__all__ = ["FileMentions", "group_mentions", "plan_instruction_changes", "rewrite_text"]

_MAX_CALL_CHARS = 4000
_QUOTES = "\"'"


@dataclass(frozen=True)
class FileMentions:
    """The mentions of old tools in one file.

    Attributes:
        file: The file, relative to the project.
        count: How many mentions.
        tools: How many of each old tool.
        lines: The lines they are on.
    """

    file: str
    count: int
    tools: dict[str, int]
    lines: tuple[int, ...]

    def summary(self) -> str:
        """``"3 mention(s): complete_phase x2, get_task"``."""
        named = ", ".join(f"{t} x{n}" if n > 1 else t for t, n in self.tools.items())
        return f"{self.count} mention(s): {named}"


def group_mentions(mentions: list[Mention]) -> list[FileMentions]:
    """Group mentions by file (in the scan's order), with counts per old tool."""
    by_file: dict[str, list[Mention]] = {}
    for mention in mentions:
        by_file.setdefault(mention.file, []).append(mention)
    grouped = []
    for file, found in by_file.items():
        tools = Counter(m.tool for m in found)
        lines = tuple(sorted({m.line for m in found}))
        grouped.append(FileMentions(file, len(found), dict(tools.most_common()), lines))
    return grouped


def _outside_strings(text: str, start: int, end: int) -> Iterator[tuple[int, str, int]]:
    """Yield (index, character, bracket depth after it) outside strings and ``#`` comments."""
    depth, quote, comment = 0, "", False
    index = start
    while index < end:
        char = text[index]
        if comment:
            comment = char != "\n"
        elif quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char == "#":
            comment = True
        elif char in _QUOTES:
            quote = char
        else:
            depth += (char in "([{") - (char in ")]}")
            yield index, char, depth
        index += 1


def _closing(text: str, opening: int) -> int | None:
    """The index of the parenthesis closing the one at ``opening`` (None: not found)."""
    for index, char, depth in _outside_strings(
        text, opening, min(len(text), opening + _MAX_CALL_CHARS)
    ):
        if depth == 0:
            return index if char == ")" else None
    return None


def _split_arguments(inner: str) -> list[str]:
    """Split an argument list at its top-level commas (not in strings or ``#`` comments)."""
    cuts = [
        i for i, char, depth in _outside_strings(inner, 0, len(inner)) if char == "," and depth == 0
    ]
    bounds = [-1, *cuts, len(inner)]
    return [inner[a + 1 : b] for a, b in itertools.pairwise(bounds)]


_CODE = re.compile(r"(?:\s|#[^\n]*)*")


def _named(piece: str, index: int, params: tuple[str, ...]) -> str:
    """Give a positional argument its parameter's name; leave anything else as written."""
    code_at = _CODE.match(piece)
    at = code_at.end() if code_at else 0
    value = piece[at:].split("#", maxsplit=1)[0].strip()
    if not value or value == "..." or "=" in value.split("(")[0] or index >= len(params):
        return piece
    return f"{piece[:at]}{params[index]}={piece[at:]}"


def _call(text: str, open_at: int, action: str, params: tuple[str, ...]) -> tuple[str, int] | None:
    """The rewritten call and where the old one ends (None: the parentheses do not close)."""
    close = _closing(text, open_at)
    if close is None:
        return None
    inner = text[open_at + 1 : close]
    head = f'pos_workflow(action="{action}"'
    if not inner.strip():
        return head + ")", close + 1
    pieces = _split_arguments(inner)
    named = [_named(p, i, params) if p.strip() else p for i, p in enumerate(pieces)]
    body = ",".join(named)
    if body.startswith(("\n", "\r")):
        indent = body[: len(body) - len(body.lstrip())]
        return f"{head},{indent}{body.lstrip()})", close + 1
    return f"{head}, {body.lstrip()})", close + 1


def rewrite_text(text: str) -> tuple[str, Counter[str], list[str]]:
    """Rewrite the old tool mentions of ``text``.

    Returns:
        The new text, how many mentions of each tool were rewritten, and the
        mentions left as they are (``"line 12: create_workflow (why)"``).
    """
    out: list[str] = []
    done: Counter[str] = Counter()
    left: list[str] = []
    position = 0
    for match in MENTION.finditer(text):
        if match.start() < position:
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line = text[line_start : len(text) if line_end < 0 else line_end]
        if "pos_workflow" in line or ACTION_CONTEXT.search(text[line_start : match.start()]):
            continue
        tool = match["tool"]
        where = f"line {text.count(chr(10), 0, match.start()) + 1}: {tool}"
        replacement = LEGACY_TOOLS[tool]
        if replacement.action is None:
            left.append(f"{where} (no single pos_workflow call: {replacement.replaced_by})")
            continue
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if after == "(":
            call = _call(text, match.end(), replacement.action, replacement.parameters)
            if call is None:
                left.append(f"{where} (its parentheses do not close)")
                continue
            new, end = call
        elif before and before in _QUOTES and after == before:
            left.append(f"{where} (a quoted name, data rather than a call)")
            continue
        else:
            new, end = f'pos_workflow(action="{replacement.action}")', match.end()
        out += [text[position : match.start()], new]
        position = end
        done[tool] += 1
    out.append(text[position:])
    return "".join(out), done, left


def plan_instruction_changes(project: Path) -> list[FileChange]:
    """Plan the rewrite of every agent instruction file that mentions an old tool."""
    changes = []
    for path in instruction_files(project):
        if path.is_symlink():
            continue
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        new, done, left = rewrite_text(text)
        if not done:
            continue
        rel = path.relative_to(project).as_posix()
        named = ", ".join(f"{t} x{n}" if n > 1 else t for t, n in done.most_common())
        summary = [
            f"{sum(done.values())} old tool mention(s) rewritten as pos_workflow calls ({named})"
        ]
        summary += [f"left for a human: {item}" for item in left]
        mode = path.stat().st_mode & 0o777
        changes.append(FileChange(rel, "instructions", raw, new.encode("utf-8"), mode, summary))
    return changes
