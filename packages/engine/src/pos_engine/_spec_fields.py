"""Reading the fields of one block of a tasks.md: labels, their values, lists and code.

A :class:`Fields` looks at one task's lines (or one phase's own lines) of a
:class:`~pos_engine._spec_markdown.Lines` and answers what the parser asks: the value
of a label, the list under it, the first prose paragraph, the command in a code block.
Blocks that are line ranges are searched with bisect over the structure
:class:`Lines` found; a field's list items come from one search over its lines.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from ._spec_markdown import (
    ALL_BOXES,
    ALL_ITEMS,
    FENCE,
    SHELL_LANGS,
    Label,
    Lines,
    clean,
    listed,
)

__all__ = ["Fields"]


class Fields:
    """Reads labels, their values and their lists from one block of lines."""

    def __init__(self, lines: Lines, block: Sequence[int], names: dict[str, str]) -> None:
        self.lines = lines
        self.block = block
        self._regions: dict[int, Sequence[int]] = {}
        self.labels: list[tuple[int, Label, str]] = []  # (position in block, label, kind)
        found = lines.label
        if isinstance(block, range):
            keys = lines.label_lines
            within = keys[bisect_left(keys, block.start) : bisect_left(keys, block.stop)]
            positions = [(index - block.start, index) for index in within]
        else:
            positions = [(p, index) for p, index in enumerate(block) if index in found]
        self._first: dict[str, tuple[int, Label]] = {}
        for position, index in positions:
            label = found[index]
            kind = "gate" if label.gate else names.get(label.name)
            if kind is not None:
                self.labels.append((position, label, kind))
                self._first.setdefault(kind, (position, label))

    def first(self, kind: str) -> tuple[int, Label] | None:
        """The first label of ``kind`` and its position in the block."""
        return self._first.get(kind)

    def region(self, position: int, label: Label) -> Sequence[int]:
        """The block's lines under a label: up to the next label at its indent or less."""
        if position in self._regions:
            return self._regions[position]
        lines = self.lines
        block = self.block
        if isinstance(block, range):
            # Only headings, rules and labels can end a region: look at those alone.
            stop = block.stop
            stops = lines.stops
            at = bisect_right(stops, block.start + position)
            while at < len(stops) and stops[at] < block.stop:
                index = stops[at]
                other = lines.label.get(index)
                if other is None or other.indent <= label.indent:
                    stop = index
                    break
                at += 1
            self._regions[position] = range(block.start + position + 1, stop)
            return self._regions[position]
        end = position + 1
        while end < len(block):
            index = block[end]
            if lines.structural[index]:
                other = lines.label.get(index)
                if (
                    (other is not None and other.indent <= label.indent)
                    or index in lines.head
                    or index in lines.rule
                ):
                    break
            end += 1
        self._regions[position] = block[position + 1 : end]
        return self._regions[position]

    def inline(self, kind: str) -> str:
        """The label's value on its line, else its list items joined."""
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
        lines = self.lines
        parts = [label.value] if label.value else []
        for index in self.region(position, label):
            if lines.blank(index):
                if parts:
                    break
                continue
            if lines.fenced[index] or listed(lines.text[index]):
                break
            parts.append(lines.text[index].strip())
        return " ".join(parts)

    def items(self, region: Sequence[int], *, checkboxes_first: bool = False) -> list[str]:
        """List items of a region: every checkbox (if asked and any), else the top-level items."""
        text = self.lines.joined(region)
        if checkboxes_first:
            boxes = [item for found in ALL_BOXES.findall(text) if (item := clean(found))]
            if boxes:
                return boxes
        found = [(len(lead.expandtabs(4)), body) for lead, body in ALL_ITEMS.findall(text)]
        if not found:
            return []
        top = min(indent for indent, _ in found)
        items = []
        for indent, body in found:
            if indent == top:
                boxed = body[:1] == "[" and body[2:3] == "]" and body[1:2] in " xX"
                item = clean(body[3:] if boxed else body)
                if item:
                    items.append(item)
        return items

    def checkboxes(self) -> list[str]:
        """Every checkbox of the block (none when it has none)."""
        text = self.lines.joined(self.block)
        return [item for found in ALL_BOXES.findall(text) if (item := clean(found))]

    def first_paragraph(self) -> str:
        """The first run of consecutive prose lines of the block."""
        lines = self.lines
        prose, block = lines.prose, self.block
        if isinstance(block, range):
            at = bisect_left(prose, block.start)
            run: list[int] = []
            while at < len(prose) and prose[at] < block.stop:
                if run and prose[at] != run[-1] + 1:
                    break
                run.append(prose[at])
                at += 1
            return " ".join(lines.text[index].strip() for index in run)
        chosen = set(prose)
        parts: list[str] = []
        for index in block:
            if index in chosen:
                parts.append(lines.text[index].strip())
            elif parts:
                break
        return " ".join(parts)

    def code_after(self, kind: str) -> str | None:
        """The label's command: inline code on its line, or the first shell block under it."""
        found = self.first(kind)
        if found is None:
            return None
        position, label = found
        if label.value.startswith("`") and label.value.endswith("`") and len(label.value) > 2:
            return label.value.strip("`").strip() or None
        lines = self.lines
        region = self.region(position, label)
        if not region:
            return None
        opens = lines.block_lines
        at = bisect_left(opens, region[0])
        if at == len(opens) or opens[at] > region[-1] or opens[at] not in region:
            return None
        opening = opens[at]
        match = FENCE.match(lines.text[opening])
        lang = lines.text[opening][match.end() :].strip().split(" ")[0].lower() if match else ""
        closing = lines.blocks[opening]
        inner = range(opening + 1, closing if FENCE.match(lines.text[closing]) else closing + 1)
        code = lines.block_text(inner).strip()
        return code if lang in SHELL_LANGS and code else None
