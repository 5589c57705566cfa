"""The task file parser."""

from __future__ import annotations

import pytest
from pos_engine._tasks import MAX_TASK_LINES, TaskFormatError, parse_task

GOOD = """# Task 2: Record the public API

**Estimated duration:** 10 minutes

List every public function so later phases know what to test.

## Execution steps

### Step 1: Find definitions
Command: `grep -n "^def " {target_file}`
Expected output: One line per top-level function.

Skip names that start with an underscore.

### Step 2: Write the list
Command: none
Expected output: A JSON array of names.

## Artifacts to produce

- `public_api`: The list of public functions.
- `notes`: Anything surprising.
"""


def test_a_well_formed_task_parses_into_steps_and_artifacts() -> None:
    task = parse_task(GOOD)
    assert task.number == 2
    assert task.title == "Record the public API"
    assert task.estimated_duration == "10 minutes"
    assert task.description == "List every public function so later phases know what to test."
    assert task.execution_steps == (
        {
            "step": 1,
            "title": "Find definitions",
            "command": 'grep -n "^def " {target_file}',
            "description": "Find definitions. Skip names that start with an underscore.",
            "expected_output": "One line per top-level function.",
        },
        {
            "step": 2,
            "title": "Write the list",
            "command": None,
            "description": "Write the list",
            "expected_output": "A JSON array of names.",
        },
    )
    assert task.artifacts_to_produce == (
        {"name": "public_api", "description": "The list of public functions."},
        {"name": "notes", "description": "Anything surprising."},
    )


def test_render_substitutes_the_target_file_in_commands() -> None:
    rendered = parse_task(GOOD).render("src/calc.py")
    assert rendered["execution_steps"][0]["command"] == 'grep -n "^def " src/calc.py'
    assert rendered["execution_steps"][1]["command"] is None


@pytest.mark.parametrize(
    ("broken", "match"),
    [
        (GOOD.replace("# Task 2:", "# Tsk 2:"), "first line must be"),
        (GOOD.replace("**Estimated duration:** 10 minutes\n", ""), "Estimated duration"),
        (
            GOOD.replace("List every public function so later phases know what to test.\n", ""),
            "no description",
        ),
        (GOOD.replace("## Execution steps", "## Steps"), "Execution steps"),
        (GOOD.replace("## Artifacts to produce", "## Outputs"), "Artifacts to produce"),
        (GOOD.replace("### Step 2:", "### Step 3:"), "expected Step 2, found Step 3"),
        (GOOD.replace("Command: none", "Run: none"), "step 2: the line after its heading"),
        (GOOD.replace("Expected output: A JSON", "Output: A JSON"), "step 2: the second line"),
        (
            GOOD.replace("- `notes`: Anything surprising.", "- notes, surprising"),
            "artifacts are bullets",
        ),
        (
            GOOD.replace(
                "- `public_api`: The list of public functions.\n- `notes`: Anything surprising.\n",
                "",
            ),
            "lists no artifact",
        ),
        (
            GOOD.replace(
                "### Step 1: Find definitions", "stray text\n### Step 1: Find definitions"
            ),
            "before the first",
        ),
        (GOOD + "\n## Execution steps\n", "appears twice"),
        (
            GOOD.split("### Step 1", maxsplit=1)[0] + "## Artifacts to produce\n\n- `a`: b\n",
            "no '### Step 1:' heading",
        ),
    ],
)
def test_a_broken_task_is_reported_with_what_to_fix(broken: str, match: str) -> None:
    with pytest.raises(TaskFormatError, match=match):
        parse_task(broken)


def test_a_task_over_the_line_limit_is_rejected() -> None:
    long_task = GOOD + "\n" * (MAX_TASK_LINES)
    with pytest.raises(TaskFormatError, match=f"the limit is {MAX_TASK_LINES}"):
        parse_task(long_task)
