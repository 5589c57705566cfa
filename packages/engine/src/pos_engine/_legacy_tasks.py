"""Lenient parsing of legacy (praxis-style) task files into our task shape.

Legacy task files are free-form markdown; parsing them never fails (a task an
agent can read is better than a workflow that does not load). Our own format is
parsed strictly by ``_tasks``.
"""

from __future__ import annotations

import re
from typing import Any

from ._tasks import TaskContent

__all__ = ["parse_legacy_task"]


# Patterns end in a greedy ``(.*)`` that the code strips: a trailing ``(.*?)\s*$`` (or
# ``\s+\W*``, whose two runs overlap) backtracks quadratically on a long run of spaces.
_HEADING = re.compile(r"(#{1,6})\s(.*)")
_STEP_WORD = re.compile(r"\W*Step\s+\d+\b\s*[:.)\-\u2013\u2014]?(.*)", re.I)
_NUMBERED = re.compile(r"(\d+)[.)]\s(.*)")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
_TASK_PREFIX = re.compile(r"^Task\s+\d+\s*[:.\-\u2013\u2014]\s*", re.I)
_INLINE_CODE = re.compile(r"`([^`]+)`")
_EXPECTED = re.compile(r"expected(?:\s+output|\s+result)?([\s*]*):(.*)", re.I)
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_SHELL = {"", "bash", "sh", "shell", "zsh", "console"}


class _Block:
    """A line of prose, or a fenced code block with its language."""

    __slots__ = ("code", "lang", "lines")

    def __init__(self, lines: list[str], *, code: bool = False, lang: str = "") -> None:
        self.lines = lines
        self.code = code
        self.lang = lang

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def body(self) -> str:
        """The code inside the fences."""
        return "\n".join(self.lines[1:-1] if len(self.lines) > 1 else self.lines).strip()


def _blocks(text: str) -> list[_Block]:
    """Split markdown into prose lines and fenced code blocks (so '# comment' in code is no heading)."""
    blocks: list[_Block] = []
    fence: list[str] | None = None
    marker = ""
    lang = ""
    for line in text.splitlines():
        if fence is None:
            opening = _FENCE.match(line)
            if opening:
                fence, marker, lang = [line], opening.group(1)[0] * 3, opening.group(2).lower()
            else:
                blocks.append(_Block([line]))
        else:
            fence.append(line)
            if line.strip().startswith(marker) and len(fence) > 1:
                blocks.append(_Block(fence, code=True, lang=lang))
                fence = None
    if fence is not None:  # an unclosed fence runs to the end of the file
        blocks.append(_Block(fence, code=True, lang=lang))
    return blocks


def _prose(blocks: list[_Block]) -> str:
    """Join blocks back into markdown, dropping horizontal rules and runs of blank lines."""
    text = "\n".join(b.text for b in blocks if b.code or not _RULE.match(b.text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _heading(block: _Block) -> tuple[int, str] | None:
    """Return a heading's level and text (closing #s dropped), or None for other blocks."""
    if block.code:
        return None
    match = _HEADING.fullmatch(block.text.rstrip())
    if match is None:
        return None
    return len(match.group(1)), match.group(2).strip().rstrip("#").rstrip()


def _step_heading(block: _Block) -> tuple[int, str] | None:
    """Return the level and title of a '### Step N: title' heading, or None."""
    heading = _heading(block)
    if heading is None or heading[0] < 2:
        return None
    match = _STEP_WORD.match(heading[1])
    return None if match is None else (heading[0], match.group(1).strip())


def _numbered(block: _Block) -> str | None:
    """Return the text of a top-level numbered-list item, or None."""
    if block.code:
        return None
    match = _NUMBERED.fullmatch(block.text.rstrip())
    text = match.group(2).strip() if match else ""
    return text or None


def _expected(line: str) -> str | None:
    """Return the text after an 'Expected output:' label ("" if none follows), else None."""
    match = _EXPECTED.fullmatch(line.strip().strip("*_-# >"))
    return None if match is None else match.group(2).strip().strip("*_ ")


def _step(number: int, title: str, body: list[_Block], *, title_command: bool) -> dict[str, Any]:
    """Build one execution step from its title and body blocks."""
    command: str | None = None
    expected = ""
    used: set[int] = set()
    previous_text = ""
    for index, block in enumerate(body):
        if block.code:
            if _expected(previous_text) == "" and not expected:
                expected, previous_text = block.body, ""
                used.add(index)
            elif command is None and block.lang in _SHELL and block.body:
                command = block.body
                used.add(index)
            continue
        line = block.text.strip()
        if not line:
            continue
        label = _expected(line)
        if label and not expected:
            expected = label
            used.add(index)
        previous_text = line
    if command is None and title_command:
        inline = _INLINE_CODE.search(title)
        command = inline.group(1) if inline else None
    detail = _prose([b for i, b in enumerate(body) if i not in used])
    title = title or f"Step {number}"
    return {
        "step": number,
        "title": title,
        "command": command,
        "description": f"{title}\n\n{detail}" if detail else title,
        "expected_output": expected,
    }


def _heading_steps(blocks: list[_Block]) -> tuple[list[dict[str, Any]], list[_Block]]:
    """Steps from '### Step N' headings; also return the blocks outside every step."""
    steps: list[dict[str, Any]] = []
    outside: list[_Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        match = _step_heading(block)
        if match is None:
            outside.append(block)
            index += 1
            continue
        level = match[0]
        end = index + 1
        while end < len(blocks):
            heading = _heading(blocks[end])
            if heading is not None and (heading[0] <= level or _step_heading(blocks[end])):
                break
            end += 1
        steps.append(_step(len(steps) + 1, match[1], blocks[index + 1 : end], title_command=False))
        index = end
    return steps, outside


def _numbered_steps(blocks: list[_Block]) -> tuple[list[dict[str, Any]], list[_Block]]:
    """Steps from top-level numbered-list items; also return the blocks outside every item."""
    steps: list[dict[str, Any]] = []
    outside: list[_Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        item = _numbered(block)
        if item is None:
            outside.append(block)
            index += 1
            continue
        end = index + 1
        while end < len(blocks):
            nxt = blocks[end]
            if _numbered(nxt) is not None or _heading(nxt) is not None:
                break
            end += 1
        steps.append(_step(len(steps) + 1, item, blocks[index + 1 : end], title_command=True))
        index = end
    return steps, outside


def parse_legacy_task(
    text: str,
    *,
    number: int,
    name: str,
    estimated_duration: str,
    artifacts: tuple[dict[str, str], ...],
) -> TaskContent:
    """Parse a free-form legacy task file into our task shape; never fails.

    - title: the first heading (a ``Task N:`` prefix dropped), else ``name``;
    - description: the prose outside the steps (else the title);
    - execution_steps: one per ``### Step N`` heading, else one per top-level
      numbered-list item, else one step describing the whole task. A step's command
      is its first shell code block (or, for a list item, inline code in the item);
      an ``Expected output`` line or block becomes its expected output;
    - estimated_duration and artifacts_to_produce come from the phase (the caller).

    Args:
        text: The markdown of the task file.
        number: The task's number as served (1..N).
        name: The task's name from metadata (the title when the file has no heading).
        estimated_duration: The phase's estimated effort, or ``"unspecified"``.
        artifacts: What the task should produce (the phase's deliverables or evidence).
    """
    blocks = _blocks(text)
    title = ""
    for index, block in enumerate(blocks):
        heading = _heading(block)
        if heading is not None:
            title = _TASK_PREFIX.sub("", heading[1]).strip()
            del blocks[index]
            break
    title = title or name
    steps, outside = _heading_steps(blocks)
    if not steps:
        steps, outside = _numbered_steps(blocks)
    description = _prose(outside)
    if not steps:
        whole = _prose(blocks)
        steps = [
            {
                "step": 1,
                "title": title,
                "command": None,
                "description": whole or title,
                "expected_output": "",
            }
        ]
    return TaskContent(
        number=number,
        title=title,
        estimated_duration=estimated_duration,
        description=description or title,
        execution_steps=tuple(steps),
        artifacts_to_produce=artifacts,
    )
