"""Surgical edits of JSON (and JSONC) text: change some values, keep every other byte.

Client configs are files people wrote by hand (or their IDE did): key order,
indentation, comments (``.vscode/mcp.json`` is JSON with comments), a missing
final newline. :func:`parse` reads such a text into a tree of :class:`Node` that
knows where each value and member sits in the text; an :class:`Editor` then
replaces, inserts or removes members by their spans and leaves everything else
as it was. :meth:`Editor.result` re-parses the edited text and compares it with
the value the caller expected, so an edit that would produce anything else is
refused instead of written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .exceptions import CutoverError

__all__ = ["Editor", "JsonEditError", "Member", "Node", "parse", "render"]

_WS = " \t\r\n"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"')
_LITERALS = {"true": True, "false": False, "null": None}


class JsonEditError(CutoverError):
    """A JSON text cannot be read or edited safely."""

    default_remediation = (
        "Fix the file so that it is valid JSON (comments are allowed), then run again."
    )


@dataclass
class Member:
    """One ``"key": value`` of an object.

    Attributes:
        key: The key, decoded.
        start: Where the key's opening quote is.
        value: The value.
    """

    key: str
    start: int
    value: Node

    @property
    def end(self) -> int:
        """Where the value ends (exclusive)."""
        return self.value.end


@dataclass
class Node:
    """One value of the text.

    Attributes:
        start: Where the value begins.
        end: Where it ends (exclusive).
        value: The value as Python data.
        members: The members, for an object.
        items: The items, for an array.
    """

    start: int
    end: int
    value: Any
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)

    def member(self, key: str) -> Member | None:
        """Return the member named ``key`` of this object (the last one, as JSON readers do)."""
        found = [m for m in self.members if m.key == key]
        return found[-1] if found else None

    def get(self, key: str) -> Node | None:
        """Return the value of member ``key``, or None."""
        member = self.member(key)
        return member.value if member else None


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.pos = 0
        self.source = source

    def fail(self, what: str) -> JsonEditError:
        line = self.text.count("\n", 0, self.pos) + 1
        column = self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1
        return JsonEditError(
            f"{self.source} is not valid JSON: {what} at line {line}, column {column}"
        )

    def skip(self) -> None:
        """Skip whitespace and comments."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _WS:
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline + 1
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    raise self.fail("an unclosed comment")
                self.pos = close + 2
            else:
                return

    def value(self) -> Node:
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("a value is missing")
        char = self.text[self.pos]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char == '"':
            start = self.pos
            return Node(start, self.pos, self.string())
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                start, self.pos = self.pos, self.pos + len(word)
                return Node(start, self.pos, literal)
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail(f"unexpected {char!r}")
        self.pos = match.end()
        return Node(match.start(), match.end(), json.loads(match.group()))

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        if match is None:
            raise self.fail("a broken string")
        self.pos = match.end()
        decoded: str = json.loads(match.group())
        return decoded

    def _sequence(self, close: str, item: Any) -> None:
        """Parse items up to ``close``, separated by commas (a trailing comma is allowed)."""
        self.pos += 1
        self.skip()
        if self.text.startswith(close, self.pos):
            self.pos += 1
            return
        while True:
            item()
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                self.skip()
                if self.text.startswith(close, self.pos):
                    self.pos += 1
                    return
                continue
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return
            raise self.fail(f"expected ',' or {close!r}")

    def object(self) -> Node:
        node = Node(self.pos, self.pos, {})

        def member() -> None:
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a key")
            start = self.pos
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'")
            self.pos += 1
            value = self.value()
            node.members.append(Member(key, start, value))
            node.value[key] = value.value

        self._sequence("}", member)
        node.end = self.pos
        return node

    def array(self) -> Node:
        node = Node(self.pos, self.pos, [])

        def item() -> None:
            child = self.value()
            node.items.append(child)
            node.value.append(child.value)

        self._sequence("]", item)
        node.end = self.pos
        return node


def parse(text: str, source: str = "the file") -> Node:
    """Parse JSON text (comments and trailing commas allowed) into a tree with spans.

    Raises:
        JsonEditError: The text is not JSON; the message names line and column.
    """
    parser = _Parser(text.removeprefix("\ufeff"), source)
    offset = len(text) - len(parser.text)
    root = parser.value()
    parser.skip()
    if parser.pos != len(parser.text):
        raise parser.fail("unexpected text after the value")
    if offset:
        _shift(root, offset)
    return root


def _shift(node: Node, by: int) -> None:
    node.start += by
    node.end += by
    for member in node.members:
        member.start += by
        _shift(member.value, by)
    for item in node.items:
        _shift(item, by)


def _line_indent(text: str, pos: int) -> str:
    """The whitespace from the start of ``pos``'s line up to the first other character."""
    line_start = text.rfind("\n", 0, pos) + 1
    match = re.match(r"[ \t]*", text[line_start:])
    return match.group() if match else ""


def render(value: Any, unit: str, base: str, *, inline_lists: bool = False) -> str:
    """Return ``value`` as JSON indented by ``unit`` per level, continuation lines at ``base``.

    With ``inline_lists``, a list of plain values stays on one line (``["-m", "x"]``), as
    people often write ``args``.
    """
    if not unit:
        return json.dumps(value, ensure_ascii=False)
    plain = isinstance(value, list) and not any(isinstance(v, (list, dict)) for v in value)
    if not value or not isinstance(value, (list, dict)) or (inline_lists and plain):
        return json.dumps(value, ensure_ascii=False)
    inner = base + unit
    if isinstance(value, list):
        items = [render(v, unit, inner, inline_lists=inline_lists) for v in value]
        return "[\n" + ",\n".join(inner + item for item in items) + "\n" + base + "]"
    members = [
        f"{inner}{json.dumps(k, ensure_ascii=False)}: "
        + render(v, unit, inner, inline_lists=inline_lists)
        for k, v in value.items()
    ]
    return "{\n" + ",\n".join(members) + "\n" + base + "}"


class Editor:
    """Collects span edits of one text and applies them at once.

    Args:
        text: The original text.
        source: The file's name, for messages.
    """

    def __init__(self, text: str, source: str = "the file") -> None:
        self.text = text
        self.source = source
        self.root = parse(text, source)
        self._edits: list[tuple[int, int, str]] = []

    def _unit(self, node: Node) -> tuple[str, str]:
        """The indentation unit and the members' indentation of an object or array."""
        children = [m.start for m in node.members] or [i.start for i in node.items]
        if not children or "\n" not in self.text[node.start : children[0]]:
            return "", ""
        inner = _line_indent(self.text, children[0])
        outer = _line_indent(self.text, node.start)
        unit = inner[len(outer) :] if inner.startswith(outer) and inner != outer else "  "
        return unit, inner

    def _closing_indent(self, node: Node) -> str:
        return _line_indent(self.text, node.end - 1)

    def replace(self, node: Node, value: Any) -> None:
        """Replace ``node`` with ``value``, laid out as the node was (one line or one item a line)."""
        if isinstance(value, (list, dict)) and value and "\n" in self.text[node.start : node.end]:
            unit, inner = self._unit(node)
            if not unit:
                unit = self._unit(self.root)[0] or "  "
                inner = _line_indent(self.text, node.start) + unit
            outer = inner[: len(inner) - len(unit)]
            text = render(value, unit, outer)
        else:
            text = json.dumps(value, ensure_ascii=False)
        self._edits.append((node.start, node.end, text))

    def replace_member(
        self, member: Member, key: str, value: Any, within: Node, *, inline_lists: bool = False
    ) -> None:
        """Replace a whole member of ``within`` (key and value) by ``"key": value`` in its place."""
        unit, inner = self._unit(within)
        rendered = render(value, unit, inner, inline_lists=inline_lists)
        self._edits.append(
            (member.start, member.end, f"{json.dumps(key, ensure_ascii=False)}: {rendered}")
        )

    def insert(
        self,
        within: Node,
        key: str,
        value: Any,
        *,
        after: Member | None = None,
        inline_lists: bool = False,
    ) -> None:
        """Add ``"key": value`` to the object ``within``, after ``after`` (default: last)."""
        unit, inner = self._unit(within)
        rendered = render(value, unit, inner, inline_lists=inline_lists)
        member = f"{json.dumps(key, ensure_ascii=False)}: {rendered}"
        if not within.members:
            closing = _line_indent(self.text, within.start)
            step = self._unit(self.root)[0] or "  "
            body = render(value, step, closing + step, inline_lists=inline_lists)
            text = f"\n{closing}{step}{json.dumps(key, ensure_ascii=False)}: {body}\n{closing}"
            self._edits.append((within.start + 1, within.end - 1, text))
            return
        anchor = after or within.members[-1]
        separator = f"\n{inner}" if unit else " "
        trailing = self._trailing_comma(anchor.end, within.end)
        if trailing is not None:
            self._edits.append((trailing + 1, trailing + 1, f"{separator}{member},"))
        else:
            self._edits.append((anchor.end, anchor.end, f",{separator}{member}"))

    def remove(self, within: Node, *members: Member) -> None:
        """Remove ``members`` of the object ``within`` with their separating commas."""
        gone = {id(m) for m in members}
        order = within.members
        for index, member in enumerate(order):
            if id(member) not in gone:
                continue
            kept_after = any(id(m) not in gone for m in order[index + 1 :])
            if kept_after:
                self._edits.append((member.start, order[index + 1].start, ""))
            elif index > 0:
                self._edits.append((order[index - 1].end, member.end, ""))
            else:
                self._edits.append((within.start + 1, member.end, ""))

    def _trailing_comma(self, pos: int, limit: int) -> int | None:
        """The position of a comma right after ``pos`` that is followed only by the closer."""
        probe = _Parser(self.text[:limit], self.source)
        probe.pos = pos
        probe.skip()
        if not self.text.startswith(",", probe.pos):
            return None
        comma = probe.pos
        probe.pos += 1
        probe.skip()
        return comma if probe.pos >= limit - 1 else None

    def result(self, expected: Any) -> str:
        """Apply the edits; return the new text after checking that it parses to ``expected``.

        Raises:
            JsonEditError: The edited text would not be JSON, or not the expected value.
        """
        text = self.text
        for start, end, replacement in sorted(self._edits, reverse=True):
            text = text[:start] + replacement + text[end:]
        try:
            value = parse(text, self.source).value
        except JsonEditError as exc:  # pragma: no cover - the edits above emit valid JSON
            raise JsonEditError(f"editing {self.source} would break it: {exc.message}") from None
        if value != expected:  # a defect of the editor (or the caller's plan): refused loudly
            raise JsonEditError(
                f"editing {self.source} would not give the planned content; it is left as it is",
                remediation="Report this with the file (the cutover changed nothing).",
            )
        if _strict(self.text) and not _strict(text):  # pragma: no cover - same
            raise JsonEditError(f"editing {self.source} would make it JSON with comments")
        return text


def _strict(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
