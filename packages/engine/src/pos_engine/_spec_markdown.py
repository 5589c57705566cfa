"""Reading the markdown of a spec's tasks.md: fences, headings, labels, lists, checkboxes.

The building blocks of :mod:`pos_engine._spec_tasks`. :class:`Lines` looks at every
line once and keeps what it is (a heading, a label, a list item, a checkbox, a rule,
blank, inside a fence); everything after reads those answers. A line is matched
against a regular expression only when its first character makes it a candidate, and
every expression matches a line prefix without nested or overlapping quantifiers, so
reading is linear in the size of the text however long a line is; trimming is done
with ``str`` methods, never with a trailing ``\\s*$``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import NamedTuple, cast

__all__ = [
    "ALL_BOXES",
    "ALL_ITEMS",
    "DASHES",
    "FENCE",
    "PHASE",
    "PHASE_LABELS",
    "PHASE_NAMED",
    "SHELL_LANGS",
    "TASK",
    "TASK_ITEM",
    "TASK_LABELS",
    "Label",
    "Lines",
    "clean",
    "heading_of",
    "is_gate",
    "listed",
    "normalise",
    "task_dependencies",
]

FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")
_FENCE_LINE = re.compile(r"\n[ \t]*(`{3,}|~{3,})([^\n]*)")
_HEADING = re.compile(r"[ ]{0,3}(#{1,6})(?:[ \t]|$)")
PHASE = re.compile(r"phase[ \t]+(\d{1,4})(?:[ \t]*:|[ \t]+[-\u2013\u2014](?:[ \t]|$))", re.I)
PHASE_NAMED = re.compile(r"phase[ \t]+(\d{1,4})\b", re.I)
TASK = re.compile(r"task[ \t]+(\d{1,4})\.(\d{1,4})", re.I)
TASK_ITEM = re.compile(
    r"([ \t]{0,3})(?:([-*+])[ \t]+)?(?:\[([ xX])\][ \t]+)?(\*\*)?task[ \t]+(\d{1,4})\.(\d{1,4})",
    re.I,
)
_CHECKBOX = re.compile(r"([ \t]*)[-*+][ \t]+\[([ xX])\](?:[ \t]+|$)")
_ITEM = re.compile(r"([ \t]*)(?:[-*+]|\d{1,4}[.)])(?:[ \t]+|$)")
_BOLD_LABEL = re.compile(r"([ \t]*)(?:[-*+][ \t]+)?\*\*([^*\n]{1,80})\*\*")
_TASK_ID = re.compile(r"(\d{1,4})\.(\d{1,4})")
SHELL_LANGS = frozenset({"", "bash", "sh", "shell", "zsh", "console"})
DASHES = frozenset({"- ", "\u2013 ", "\u2014 "})
_STARTS = frozenset("#-*+_0123456789")
ALL_BOXES = re.compile(r"^[ \t]*[-*+][ \t]+\[[ xX]\](?:[ \t]+|$)(.*)", re.M)
ALL_ITEMS = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,4}[.)])(?:[ \t]+|$)(.*)", re.M)
_MARK_ENDS = frozenset("\u2705\u274c")
_DONE_MARKS = ("\u2705/\u274c", "\u2705", "\u274c")

TASK_LABELS = {
    "priority": "priority",
    "estimated time": "estimate",
    "estimated duration": "estimate",
    "estimated effort": "estimate",
    "time estimate": "estimate",
    "estimate": "estimate",
    "effort": "estimate",
    "duration": "estimate",
    "time": "estimate",
    "dependencies": "dependencies",
    "dependency": "dependencies",
    "depends on": "dependencies",
    "description": "description",
    "objective": "description",
    "goal": "description",
    "steps": "steps",
    "implementation steps": "steps",
    "execution steps": "steps",
    "acceptance criteria": "criteria",
    "done when": "criteria",
    "definition of done": "criteria",
    "validation": "validation",
    "validation command": "validation",
    "validation commands": "validation",
    "verification": "validation",
}
PHASE_LABELS = {
    "objective": "objective",
    "goal": "objective",
    "purpose": "objective",
    "description": "objective",
    "estimated time": "estimate",
    "estimated duration": "estimate",
    "estimated effort": "estimate",
    "time estimate": "estimate",
    "estimate": "estimate",
    "duration": "estimate",
    "dependencies": "dependencies",
    "depends on": "dependencies",
    "deliverables": "deliverables",
    "key deliverables": "deliverables",
    "phase deliverables": "deliverables",
}
_GATE_PREFIXES = ("validation gate", "exit criteria")
_GATE_NAMES = frozenset({"phase gate", "gate criteria", "checkpoint", "phase checkpoint"})


class Label(NamedTuple):
    """A ``**Label:** value`` (or plain ``Label: value``) line."""

    name: str  # normalised: lower case, single spaces, no "phase N" prefix, no colon
    value: str  # the text after the label on the same line
    indent: int
    phase: int | None  # the phase a "Phase N ..." label names
    gate: bool  # whether it names a validation gate (``is_gate(name)``)


def _line_starts(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, re.Match[str]]]:
    """Yield (line index, match) for each line of ``text`` where ``pattern`` matches.

    ``pattern`` starts with ``\\n``: it is searched over the text behind a newline, so
    lines that cannot match cost no Python work (and no per-position ``^`` test);
    line indices come from counting newlines between matches, once over the text.
    """
    text = "\n" + text
    line, position = -1, 0
    for match in pattern.finditer(text):
        line += text.count("\n", position, match.start() + 1)
        position = match.start() + 1
        yield line, match


def _fences(text: str, count: int) -> tuple[list[bool], dict[int, int]]:
    """Return, per line, whether it belongs to a fenced code block (fence lines included),
    and the code blocks as {opening line: closing line (or the last line)}.

    Inside a fence, a line opening a fence of the same marker and length with an
    info string (```` ```bash ````) nests; a bare closing fence closes the innermost.
    """
    flags = [False] * count
    blocks: dict[int, int] = {}
    char, size, depth, opened = "", 0, 0, 0
    for index, match in _line_starts(text, _FENCE_LINE):
        marker, info = match.group(1), match.group(2).strip()
        if depth == 0:
            char, size, depth, opened = marker[0], len(marker), 1, index
        elif marker[0] == char and len(marker) >= size:
            if not info:
                depth -= 1
                if depth == 0:
                    flags[opened : index + 1] = [True] * (index + 1 - opened)
                    blocks[opened] = index
            elif len(marker) == size:
                depth += 1
    if depth:  # an unclosed fence runs to the end
        flags[opened:] = [True] * (count - opened)
        blocks[opened] = count - 1
    return flags, blocks


def heading_of(line: str) -> tuple[int, str] | None:
    """Return (level, text) of an ATX heading line, else None."""
    match = _HEADING.match(line)
    if match is None:
        return None
    text = line[match.end() :].strip()
    if text.endswith("#"):
        bare = text.rstrip("#")
        if not bare or bare.endswith((" ", "\t")):
            text = bare.strip()
    return len(match.group(1)), text


def clean(text: str) -> str:
    """Strip a checklist mark (``✅/❌``) and surrounding blanks from an item's text."""
    text = text.strip()
    if text[-1:] not in _MARK_ENDS:
        return text
    for mark in _DONE_MARKS:
        if text.endswith(mark):
            text = text[: -len(mark)].rstrip()
    return text


@lru_cache(maxsize=1024)
def normalise(label: str) -> tuple[str, int | None]:
    """Lower-case a label, drop leading symbols and a ``Phase N`` prefix."""
    words = label.replace(":", " ").lower().split()
    while words and not words[0][0].isalnum():
        words.pop(0)
    phase = None
    if len(words) >= 2 and words[0] == "phase" and words[1].isdigit():
        phase = int(words[1])
        words = words[2:]
    return " ".join(words), phase


def is_gate(name: str) -> bool:
    """Whether a normalised label or heading names a validation gate."""
    return name.startswith(_GATE_PREFIXES) or name in _GATE_NAMES


def _bold_label(line: str, indent: int) -> Label | None:
    """``**Label:** value`` or ``**Label**: value`` (after an optional list marker)."""
    match = _BOLD_LABEL.match(line)
    if match is None:
        return None
    inner = match.group(2).strip()
    rest = line[match.end() :]
    if not (inner.endswith(":") or rest.lstrip().startswith(":")):
        return None  # bold text, not a label
    name, phase = normalise(inner)
    return Label(name, rest.lstrip().removeprefix(":").strip(), indent, phase, is_gate(name))


def _plain_label(body: str, colon: int, indent: int) -> Label | None:
    """``Label: value`` for a label name the parser knows (``Depends on: 1.1``)."""
    words = body[:colon]
    if not words.replace(" ", "").replace("\t", "").isalpha():
        return None
    name, phase = normalise(words)
    gate = is_gate(name)
    if name not in TASK_LABELS and name not in PHASE_LABELS and not gate:
        return None
    return Label(name, body[colon + 1 :].strip(), indent, phase, gate)


def listed(line: str) -> bool:
    """Whether a line is a list item (``- x``, ``* x``, ``1. x``)."""
    stripped = line.lstrip(" \t")
    first = stripped[:1]
    if first and first in "-*+":
        return stripped[1:2] in ("", " ", "\t")
    return first.isdigit() and _ITEM.match(line) is not None


def _label_of(line: str, body_at: int, indent: int) -> Label | None:
    """The label of a line whose text (after a list marker) starts at ``body_at``."""
    body = line[body_at:]
    if body.startswith("**"):
        return _bold_label(line, indent)
    colon = body.find(":", 0, 42)
    return _plain_label(body, colon, indent) if colon > 0 else None


def _is_rule(text: str) -> bool:
    """Whether a stripped line is a thematic break (``---``, ``* * *``, ``___``)."""
    char = text[0]
    return char in "-*_" and text.count(char) >= 3 and not text.replace(char, "").strip()


def _common_prefix(texts: list[str]) -> int:
    """Length of the prefix all ``texts`` share (that of the smallest and largest suffices)."""
    if not texts:
        return 0
    low, high = min(texts), max(texts)
    size = 0
    while size < len(low) and low[size] == high[size]:
        size += 1
    return size


_PLAIN, _PROSE, _HEAD, _RULE, _LABEL, _TASK = "plain", "prose", "head", "rule", "label", "task"
# (kind, indent, heading or label, may start a task)
_Shape = tuple[str, int, tuple[int, str] | Label | None, bool]
_NOT_STRUCTURE: _Shape = (_PLAIN, 0, None, False)
_IS_PROSE: _Shape = (_PROSE, 0, None, False)


def _shape(line: str) -> _Shape:
    """What a line outside code is: prose, a plain list item, a heading, a rule, a label, a task.

    Only lines that may be structure (they start with ``#``, a list marker, a digit,
    ``*``, ``_`` or a short ``Label:``) are looked at past their first character.
    """
    stripped = line.lstrip(" \t")
    if not stripped:
        return _NOT_STRUCTURE
    first = stripped[0]
    lead = len(line) - len(stripped)
    if first not in _STARTS and not (":" in stripped[:42] and first.isalpha()):
        return _IS_PROSE
    head = stripped[:48]
    plain_item = (first in "-+" and head[1:2] == " " and head[2:3] not in ("-", "*", "_", " ")) or (
        first.isdigit() and (head[1:3] == ". " or head[2:4] == ". ")
    )
    if (
        plain_item
        and "**" not in head
        and ":" not in head
        and "ask" not in head
        and "ASK" not in head
    ):
        return _NOT_STRUCTURE  # a plain list item ("- [ ] Tests pass"): found by its field later
    indent = lead if not lead or "\t" not in line[:lead] else len(line[:lead].expandtabs(4))
    if first == "#":
        heading = heading_of(line) if lead <= 3 else None
        return _IS_PROSE if heading is None else (_HEAD, indent, heading, False)
    second = stripped[1:2]
    if (
        first in "-*_"
        and second in (first, " ", "\t")
        and stripped[2:3] in (first, " ", "\t")
        and _is_rule(stripped.rstrip())
    ):
        return (_RULE, indent, None, False)
    may_start_task = first in "-*+" and ("ask" in stripped[:40] or "ASK" in stripped[:40])
    listed = (first in "-*+" and second in ("", " ", "\t")) or (
        first.isdigit() and _ITEM.match(line) is not None
    )
    if not listed:
        body = stripped
    elif "**" in stripped[:12] or ":" in stripped[:48]:
        # A list item may be a label ("- **Estimated Time**: 2h", "- Depends on: 1.1").
        rest = _ITEM.match(line)
        body = line[rest.end() :] if rest is not None else stripped
        if body[:1] == "[" and body[2:3] == "]":
            body = body[3:].lstrip(" \t")
    else:
        # "- [ ] **Task 1.1**: ..." may start a task; other list items are plain.
        return (_TASK, indent, None, True) if may_start_task else _NOT_STRUCTURE
    label = _label_of(line, len(line) - len(body), indent)
    if label is not None:  # "**Task 1.1**: Title" is a task, though it reads like a label
        return (_LABEL, indent, label, may_start_task)
    if may_start_task:
        return (_TASK, indent, None, True)
    return _IS_PROSE if body is stripped else _NOT_STRUCTURE


class Lines:
    """A tasks.md as lines; headings, labels, rules and task lines classified once.

    Only lines that may be structure (they start with ``#``, a list marker, a digit,
    ``*``, ``_`` or a short ``Label:``) are looked at past their first character;
    a field finds its list items with one search over its lines (:meth:`joined`). Lines
    inside fenced code blocks are never structure.

    Attributes:
        text: The lines (``\\r\\n`` and ``\\r`` read as ``\\n``; a byte order mark dropped).
        fenced: Whether the line belongs to a fenced code block.
        structural: Whether the line is a heading, a label, a rule or may start a task.
        head: Line -> ``(level, text)`` of a heading.
        label: Line -> a ``**Label:**`` (or known plain ``Label:``) line.
        indent: Line -> leading blanks of a structural line (a tab counts 4).
        rule: Thematic breaks.
        label_lines: The lines holding a label, in order.
        stops: The lines that may end a label's region (headings, rules, labels), in order.
        task_lines: Lines that may start a list or bold task (``- [ ] **Task 1.1**: ...``).
        blocks: Fenced code blocks as {opening line: closing line}; ``block_lines``
            their opening lines in order.
    """

    def __init__(self, text: str) -> None:
        text = text.removeprefix("\ufeff")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text.endswith("\n"):
            text = text[:-1]
        self.text = lines = text.split("\n") if text else []
        count = len(lines)
        self.fenced, self.blocks = _fences(text, count)
        self.structural = [False] * count
        self.head: dict[int, tuple[int, str]] = {}
        self.label: dict[int, Label] = {}
        self.indent: dict[int, int] = {}
        self.rule: set[int] = set()
        self.prose: list[int] = []
        self.task_lines: set[int] = set()
        fenced, structural, indents = self.fenced, self.structural, self.indent
        head, label, rule, prose, task_lines = (
            self.head,
            self.label,
            self.rule,
            self.prose,
            self.task_lines,
        )
        # Specs repeat lines ("**Acceptance Criteria:**", "---") task after task: a line's
        # shape depends on its text alone, so each distinct line is read once.
        shapes: dict[str, _Shape] = {}
        for index, line in enumerate(lines):
            if not line or fenced[index]:
                continue
            shape = shapes.get(line)
            if shape is None:
                shape = shapes[line] = _shape(line)
            kind = shape[0]
            if kind is _PLAIN:
                continue
            if kind is _PROSE:
                prose.append(index)
                continue
            structural[index] = True
            indents[index] = shape[1]
            if kind is _HEAD:
                head[index] = cast(tuple[int, str], shape[2])
            elif kind is _RULE:
                rule.add(index)
            elif kind is _LABEL:
                label[index] = cast(Label, shape[2])
            if shape[3]:
                task_lines.add(index)
        self.label_lines = sorted(label)
        self.stops = sorted([*head, *rule, *label])
        self.block_lines = sorted(self.blocks)

    def indent_of(self, index: int) -> int:
        """Leading blanks of any line (structural lines are known already)."""
        known = self.indent.get(index)
        if known is not None:
            return known
        line = self.text[index]
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        return len(lead.expandtabs(4))

    def blank(self, index: int) -> bool:
        """Whether the line is empty or only blanks."""
        return not self.text[index].strip()

    def joined(self, block: Sequence[int]) -> str:
        """The lines of ``block`` outside fenced code, joined: one text a pattern can scan."""
        text, fenced = self.text, self.fenced
        if isinstance(block, range):
            opens = self.block_lines
            at = bisect_left(opens, block.start)
            starts_inside = at < len(opens) and opens[at] < block.stop
            if not starts_inside and not (block and fenced[block.start]):
                return "\n".join(text[block.start : block.stop])
        return "\n".join(text[i] for i in block if not fenced[i])

    def block_text(self, block: Sequence[int], *, dedent: bool = True) -> str:
        """The lines of ``block`` as markdown, trailing blank lines and rules removed.

        With ``dedent``, the indentation all its lines share is removed too.
        """
        rows = (
            self.text[block.start : block.stop]
            if isinstance(block, range)
            else [self.text[i] for i in block]
        )
        if dedent:
            # Only a block whose first line is indented can share an indentation.
            first = next((row for row in rows if row.strip()), "")
            if first[:1] in (" ", "\t"):
                leads = [row[: len(row) - len(row.lstrip(" \t"))] for row in rows if row.strip()]
                cut = _common_prefix(leads)
                rows = [row[cut:] if row.strip() else "" for row in rows]
        while rows and (not rows[-1].strip() or _is_rule(rows[-1].strip())):
            rows.pop()
        return "\n".join(rows).strip("\n")


def task_dependencies(text: str) -> list[str]:
    """Task ids a dependencies field names (``Tasks 1.1-1.3`` expands); none for ``None``."""
    if not text or text.strip().lower().startswith(("none", "n/a", "-")):
        return []
    ids: list[str] = []
    matches = list(_TASK_ID.finditer(text))
    for position, match in enumerate(matches):
        phase, number = int(match.group(1)), int(match.group(2))
        ids.append(f"{phase}.{number}")
        following = matches[position + 1] if position + 1 < len(matches) else None
        between = text[match.end() : following.start()].strip() if following else ""
        if following and between in {"-", "\u2013", "to", "through"}:
            last = int(following.group(2))
            if int(following.group(1)) == phase and number < last <= number + 100:
                ids.extend(f"{phase}.{n}" for n in range(number + 1, last))
    return list(dict.fromkeys(ids))
