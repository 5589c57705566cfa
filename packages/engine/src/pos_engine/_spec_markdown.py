"""Reading the markdown of a spec's tasks.md, line by line: fences, headings, labels, lists.

The building blocks of :mod:`pos_engine._spec_tasks`. Every regular expression
matches a line prefix without nested or overlapping quantifiers, so reading is
linear in the size of the text however long a line is; trimming is done with
``str`` methods, never with a trailing ``\\s*$``.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

__all__ = [
    "DASHES",
    "FENCE",
    "PHASE",
    "PHASE_LABELS",
    "PHASE_NAMED",
    "TASK",
    "TASK_ITEM",
    "TASK_LABELS",
    "Fields",
    "Label",
    "block_text",
    "clean",
    "fence_flags",
    "heading_of",
    "indent",
    "is_gate",
    "is_rule",
    "label_of",
    "normalise",
    "task_dependencies",
]

FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")
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
_PLAIN_LABEL = re.compile(r"([ \t]*)(?:[-*+][ \t]+)?([A-Za-z][A-Za-z \t]{0,40}):")
_TASK_ID = re.compile(r"(\d{1,4})\.(\d{1,4})")
_SHELL = frozenset({"", "bash", "sh", "shell", "zsh", "console"})
DASHES = frozenset({"- ", "\u2013 ", "\u2014 "})
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


@dataclass(frozen=True)
class Label:
    """A ``**Label:** value`` (or plain ``Label: value``) line."""

    name: str  # normalised: lower case, single spaces, no "phase N" prefix, no colon
    value: str  # the text after the label on the same line
    indent: int
    phase: int | None  # the phase a "Phase N ..." label names


def fence_flags(lines: list[str]) -> list[bool]:
    """Return, per line, whether it belongs to a fenced code block (fence lines included).

    Inside a fence, a line opening a fence of the same marker and length with an
    info string (```` ```bash ````) nests; a bare closing fence closes the innermost.
    """
    flags: list[bool] = []
    char, size, depth = "", 0, 0
    for line in lines:
        match = FENCE.match(line)
        if depth == 0:
            if match:
                char, size, depth = match.group(1)[0], len(match.group(1)), 1
            flags.append(match is not None)
            continue
        flags.append(True)
        if match and match.group(1)[0] == char and len(match.group(1)) >= size:
            info = line[match.end() :].strip()
            if not info:
                depth -= 1
            elif len(match.group(1)) == size:
                depth += 1
    return flags


def heading_of(line: str) -> tuple[int, str] | None:
    match = _HEADING.match(line)
    if match is None:
        return None
    text = line[match.end() :].strip()
    if text.endswith("#"):
        bare = text.rstrip("#")
        if not bare or bare.endswith((" ", "\t")):
            text = bare.strip()
    return len(match.group(1)), text


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def is_rule(line: str) -> bool:
    compact = line.replace(" ", "").replace("\t", "")
    return len(compact) >= 3 and len(set(compact)) == 1 and compact[0] in "-*_"


def clean(text: str) -> str:
    """Strip a checklist mark (``✅/❌``) and surrounding blanks from an item's text."""
    text = text.strip()
    for mark in _DONE_MARKS:
        if text.endswith(mark):
            text = text[: -len(mark)].rstrip()
    return text


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


def label_of(line: str) -> Label | None:
    match = _BOLD_LABEL.match(line)
    if match is not None:
        inner = match.group(2).strip()
        rest = line[match.end() :]
        if inner.endswith(":") or rest.lstrip().startswith(":"):
            name, phase = normalise(inner)
            return Label(name, rest.lstrip().removeprefix(":").strip(), indent(line), phase)
        return None
    match = _PLAIN_LABEL.match(line)
    if match is None:
        return None
    name, phase = normalise(match.group(2))
    if name not in TASK_LABELS and name not in PHASE_LABELS and not is_gate(name):
        return None
    return Label(name, line[match.end() :].strip(), indent(line), phase)


def is_gate(name: str) -> bool:
    return name.startswith(_GATE_PREFIXES) or name in _GATE_NAMES


# -------------------------------------------------------------------- the fields


class Fields:
    """Reads labels, their values and their lists from one block of lines."""

    def __init__(
        self, lines: list[str], fenced: list[bool], block: list[int], names: dict[str, str]
    ):
        self.lines = lines
        self.fenced = fenced
        self.block = block
        self.labels: list[tuple[int, Label, str]] = []  # (position in block, label, kind)
        for position, index in enumerate(block):
            if fenced[index]:
                continue
            label = label_of(lines[index])
            if label is None:
                continue
            kind = "gate" if is_gate(label.name) else names.get(label.name)
            if kind is not None:
                self.labels.append((position, label, kind))

    def first(self, kind: str) -> tuple[int, Label] | None:
        return next(((p, lab) for p, lab, k in self.labels if k == kind), None)

    def region(self, position: int, label: Label) -> list[int]:
        """The block's lines under a label: up to the next label at its indent or less."""
        region: list[int] = []
        for index in self.block[position + 1 :]:
            line = self.lines[index]
            if not self.fenced[index]:
                other = label_of(line)
                if (
                    (other is not None and other.indent <= label.indent)
                    or heading_of(line) is not None
                    or is_rule(line)
                ):
                    break
            region.append(index)
        return region

    def inline(self, kind: str) -> str:
        found = self.first(kind)
        if found is None:
            return ""
        position, label = found
        if label.value:
            return label.value
        return ", ".join(self.items(self.region(position, label)))

    def paragraph(self, kind: str) -> str:
        """The label's text: on its line, then the lines after it up to a blank line."""
        found = self.first(kind)
        if found is None:
            return ""
        position, label = found
        parts = [label.value] if label.value else []
        for index in self.region(position, label):
            line = self.lines[index]
            if not line.strip():
                if parts:
                    break
                continue
            if self.fenced[index] or _ITEM.match(line):
                break
            parts.append(line.strip())
        return " ".join(parts)

    def items(self, region: list[int], *, checkboxes_first: bool = False) -> list[str]:
        """List items of a region: every checkbox (if asked and any), else the top-level items."""
        plain = [i for i in region if not self.fenced[i]]
        if checkboxes_first:
            boxes = [
                clean(self.lines[i][m.end() :])
                for i in plain
                if (m := _CHECKBOX.match(self.lines[i])) is not None
            ]
            if boxes:
                return [text for text in boxes if text]
        found = [(i, m) for i in plain if (m := _ITEM.match(self.lines[i])) is not None]
        if not found:
            return []
        top = min(len(m.group(1).expandtabs(4)) for _, m in found)
        items = []
        for i, match in found:
            if len(match.group(1).expandtabs(4)) == top:
                text = self.lines[i][match.end() :]
                box = _CHECKBOX.match(self.lines[i])
                if box is not None:
                    text = self.lines[i][box.end() :]
                if clean(text):
                    items.append(clean(text))
        return items

    def checkboxes(self) -> list[str]:
        return self.items(self.block, checkboxes_first=True) if self._any_checkbox() else []

    def _any_checkbox(self) -> bool:
        return any(
            not self.fenced[i] and _CHECKBOX.match(self.lines[i]) is not None for i in self.block
        )

    def first_paragraph(self) -> str:
        parts: list[str] = []
        for index in self.block:
            line = self.lines[index]
            if self.fenced[index] or not line.strip():
                if parts:
                    break
                continue
            if (
                label_of(line) is not None
                or _ITEM.match(line)
                or heading_of(line) is not None
                or is_rule(line)
            ):
                if parts:
                    break
                continue
            parts.append(line.strip())
        return " ".join(parts)

    def code_after(self, kind: str) -> str | None:
        """The label's command: inline code on its line, or the first shell block under it."""
        found = self.first(kind)
        if found is None:
            return None
        position, label = found
        if label.value.startswith("`") and label.value.endswith("`") and len(label.value) > 2:
            return label.value.strip("`").strip() or None
        region = self.region(position, label)
        for offset, index in enumerate(region):
            match = FENCE.match(self.lines[index]) if self.fenced[index] else None
            if match is None:
                continue
            lang = self.lines[index][match.end() :].strip().split(" ")[0].lower()
            body = []
            for inner in region[offset + 1 :]:
                if not self.fenced[inner] or FENCE.match(self.lines[inner]):
                    break
                body.append(self.lines[inner])
            code = textwrap.dedent("\n".join(body)).strip()
            return code if lang in _SHELL and code else None
        return None


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


def block_text(lines: list[str], block: list[int]) -> str:
    text = textwrap.dedent("\n".join(lines[i] for i in block))
    rows = text.split("\n")
    while rows and (not rows[-1].strip() or is_rule(rows[-1])):
        rows.pop()
    return "\n".join(rows).strip("\n")
