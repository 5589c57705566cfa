"""Parse task markdown files into structured task content.

A task file looks like::

    # Task 1: Map the module's structure

    **Estimated duration:** 15 minutes

    Objective paragraphs (the description).

    ## Execution steps

    ### Step 1: Read the target file
    Command: `sed -n '1,200p' {target_file}`
    Expected output: The module's source.

    What to do in this step.

    ## Artifacts to produce

    - `code_structure`: What it is.

The parser is strict on purpose: a task an agent cannot follow step by step is a
broken definition, reported when the workflow loads.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_TASK_LINES", "TARGET_PLACEHOLDER", "TaskContent", "TaskFormatError", "parse_task"]

MAX_TASK_LINES = 100

TARGET_PLACEHOLDER = "{target_file}"
"""Replaced by the session's target file when a task is served (shell-quoted in commands)."""

# Each line pattern ends in ``(.*)``, stripped by ``_LinePattern``: a trailing
# ``\s*(.+?)\s*$`` backtracks quadratically on a long run of spaces (60 KB froze a load
# for 54 s), while a greedy tail that must match to the end of the line cannot backtrack.
_TITLE = re.compile(r"# Task (\d+):(.*)")
_DURATION = re.compile(r"\*\*Estimated duration:\*\*(.*)")
_STEP = re.compile(r"### Step (\d+):(.*)")
_COMMAND = re.compile(r"Command:\s*(?:`(.+)`|(none))\s*")
_EXPECTED = re.compile(r"Expected output:(.*)")
_ARTIFACT = re.compile(r"- `([A-Za-z0-9_.\-/]+)`:(.*)")


class _LinePattern:
    """A line regex whose last group takes the rest of the line, returned stripped.

    ``match`` gives the groups (the last one stripped), or None when the line does not
    match or the stripped rest is empty.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def match(self, line: str) -> tuple[str, ...] | None:
        found = self.pattern.fullmatch(line)
        if found is None:
            return None
        *head, rest = found.groups()
        rest = rest.strip()
        return (*head, rest) if rest else None


_TITLE_LINE = _LinePattern(_TITLE)
_DURATION_LINE = _LinePattern(_DURATION)
_STEP_LINE = _LinePattern(_STEP)
_EXPECTED_LINE = _LinePattern(_EXPECTED)
_ARTIFACT_LINE = _LinePattern(_ARTIFACT)


class TaskFormatError(ValueError):
    """A task file does not follow the task format; the message names the line."""


@dataclass(frozen=True)
class TaskContent:
    """Structured content of one task file."""

    number: int
    title: str
    estimated_duration: str
    description: str
    execution_steps: tuple[dict[str, Any], ...]
    artifacts_to_produce: tuple[dict[str, str], ...]

    def render(self, target_file: str) -> dict[str, Any]:
        """Return the task as a JSON-ready dict with ``{target_file}`` substituted.

        In commands the path is shell-quoted (``shlex.quote``): it comes from the agent,
        and a name like ``$(touch PWNED).py`` or ``my file.py`` must stay one literal
        argument. Command templates therefore never quote ``{target_file}`` themselves
        (a test checks every bundled and legacy template).
        """

        def fill(text: str | None, value: str = target_file) -> Any:
            return None if text is None else text.replace(TARGET_PLACEHOLDER, value)

        quoted = shlex.quote(target_file)
        return {
            "title": self.title,
            "description": fill(self.description),
            "estimated_duration": self.estimated_duration,
            "execution_steps": [
                {
                    **step,
                    "command": fill(step["command"], quoted),
                    "description": fill(step["description"]),
                    "expected_output": fill(step["expected_output"]),
                }
                for step in self.execution_steps
            ],
            "artifacts_to_produce": [dict(a) for a in self.artifacts_to_produce],
        }


def _sections(lines: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Split the body into ``## `` sections, keeping 1-based line numbers."""
    sections: dict[str, list[tuple[int, str]]] = {"": []}
    current = ""
    for number, line in enumerate(lines, start=1):
        if line.startswith("## "):
            current = line[3:].strip().lower()
            if current in sections:
                raise TaskFormatError(f"line {number}: section {line.strip()!r} appears twice")
            sections[current] = []
        else:
            sections[current].append((number, line))
    return sections


def _paragraphs(lines: list[tuple[int, str]]) -> str:
    return "\n".join(line for _, line in lines).strip()


def _parse_steps(lines: list[tuple[int, str]]) -> tuple[dict[str, Any], ...]:
    steps: list[dict[str, Any]] = []
    body: list[tuple[int, str]] = []

    def close() -> None:
        if not steps:
            return
        step = steps[-1]
        rest = [text for _, text in body]
        if not rest or not _COMMAND.fullmatch(rest[0].strip()):
            raise TaskFormatError(
                f"step {step['step']}: the line after its heading must be 'Command: `...`' or 'Command: none'"
            )
        if len(rest) < 2 or not _EXPECTED_LINE.match(rest[1].strip()):
            raise TaskFormatError(
                f"step {step['step']}: the second line must be 'Expected output: ...'"
            )
        command = _COMMAND.fullmatch(rest[0].strip())
        expected = _EXPECTED_LINE.match(rest[1].strip())
        assert command is not None and expected is not None  # noqa: S101 - checked just above
        step["command"] = command.group(1)
        step["expected_output"] = expected[0]
        detail = "\n".join(rest[2:]).strip()
        step["description"] = f"{step['title']}. {detail}".strip() if detail else step["title"]

    for number, line in lines:
        heading = _STEP_LINE.match(line)
        if heading:
            close()
            expected_number = len(steps) + 1
            if int(heading[0]) != expected_number:
                raise TaskFormatError(
                    f"line {number}: expected Step {expected_number}, found Step {heading[0]}"
                )
            steps.append({"step": expected_number, "title": heading[1]})
            body = []
        elif steps:
            if line.strip() or body:
                body.append((number, line))
        elif line.strip():
            raise TaskFormatError(f"line {number}: text before the first '### Step 1:' heading")
    close()
    if not steps:
        raise TaskFormatError("the '## Execution steps' section has no '### Step 1:' heading")
    return tuple(
        {k: step[k] for k in ("step", "title", "command", "description", "expected_output")}
        for step in steps
    )


def _parse_artifacts(lines: list[tuple[int, str]]) -> tuple[dict[str, str], ...]:
    artifacts: list[dict[str, str]] = []
    for number, line in lines:
        if not line.strip():
            continue
        match = _ARTIFACT_LINE.match(line.strip())
        if not match:
            raise TaskFormatError(
                f"line {number}: artifacts are bullets of the form '- `name`: description'"
            )
        artifacts.append({"name": match[0], "description": match[1]})
    if not artifacts:
        raise TaskFormatError("the '## Artifacts to produce' section lists no artifact")
    return tuple(artifacts)


def parse_task(text: str) -> TaskContent:
    """Parse one task file.

    Args:
        text: The markdown of the task file.

    Returns:
        The structured task.

    Raises:
        TaskFormatError: the file breaks the format; the message says where and how.
    """
    lines = text.splitlines()
    if len(lines) > MAX_TASK_LINES:
        raise TaskFormatError(f"the task has {len(lines)} lines; the limit is {MAX_TASK_LINES}")
    sections = _sections(lines)
    head = [(n, line) for n, line in sections[""] if line.strip()]
    title_match = _TITLE_LINE.match(head[0][1].rstrip()) if head else None
    if title_match is None:
        raise TaskFormatError("the first line must be '# Task <number>: <title>'")
    duration = next((m[0] for _, line in head if (m := _DURATION_LINE.match(line.rstrip()))), None)
    if duration is None:
        raise TaskFormatError("missing the '**Estimated duration:** ...' line")
    description = _paragraphs(
        [
            (n, line)
            for n, line in sections[""]
            if not _TITLE_LINE.match(line.rstrip()) and not _DURATION_LINE.match(line.rstrip())
        ]
    )
    if not description:
        raise TaskFormatError("the task has no description paragraph under its title")
    for required in ("execution steps", "artifacts to produce"):
        if required not in sections:
            raise TaskFormatError(f"missing the '## {required.capitalize()}' section")
    return TaskContent(
        number=int(title_match[0]),
        title=title_match[1],
        estimated_duration=duration,
        description=description,
        execution_steps=_parse_steps(sections["execution steps"]),
        artifacts_to_produce=_parse_artifacts(sections["artifacts to produce"]),
    )
