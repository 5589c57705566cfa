"""Commands served to agents quote the target file: it comes from the agent, not the author.

The rule is checked on every command of every bundled workflow (and every workflow a
registry finds in a project): ``{target_file}`` never sits inside quotes in a template
(the engine quotes it), and each rendered command, run by bash with a hostile target
name in a scratch project, never executes the name.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pos_engine import WorkflowRegistry
from pos_engine._tasks import TARGET_PLACEHOLDER

HOSTILE_TARGETS = ["src/$(touch PWNED).py", "src/`touch PWNED`.py", "src/my file; touch PWNED.py"]


@dataclass
class _Context:
    """One shell quoting context: the top level, or one ``$(...)``."""

    quote: str | None = None
    parens: int = 0


def quote_depth_violations(command: str) -> list[int]:
    """Return the offsets where ``{target_file}`` appears inside quotes.

    ``$(...)`` opens a fresh quoting context, even inside double quotes, so
    ``"$(basename {target_file})"`` is fine: the quoted path stays one argument there.
    """
    bad = []
    stack = [_Context()]
    index = 0
    while index < len(command):
        here = stack[-1]
        if command.startswith(TARGET_PLACEHOLDER, index):
            if here.quote is not None:
                bad.append(index)
            index += len(TARGET_PLACEHOLDER)
            continue
        char = command[index]
        if char == "\\" and here.quote != "'":
            index += 2
            continue
        if here.quote != "'" and command.startswith("$(", index):
            stack.append(_Context())
            index += 2
            continue
        if here.quote is None and char == "(":
            here.parens += 1
        elif here.quote is None and char == ")":
            if here.parens:
                here.parens -= 1
            elif len(stack) > 1:
                stack.pop()
        elif here.quote is None and char in "'\"":
            here.quote = char
        elif char == here.quote:
            here.quote = None
        index += 1
    return bad


def every_command(tmp_path: Path) -> list[tuple[str, str]]:
    """Return (where, command template) for every command of every workflow found."""
    found = []
    for workflow in WorkflowRegistry(tmp_path).workflows():
        for phase in workflow.phases:
            for task in phase.tasks:
                for step in task.content.execution_steps:
                    if step["command"]:
                        where = f"{workflow.workflow_type} phase {phase.number} {task.file}"
                        found.append((f"{where} step {step['step']}", step["command"]))
    return found


def test_the_placeholder_is_never_inside_quotes_in_a_template(tmp_path: Path) -> None:
    commands = every_command(tmp_path)

    assert len(commands) > 40
    assert [where for where, cmd in commands if quote_depth_violations(cmd)] == []


def test_the_checker_finds_a_quoted_placeholder() -> None:
    assert quote_depth_violations('cat "{target_file}"') == [5]
    assert quote_depth_violations("cat '{target_file}' {target_file}") == [5]
    assert quote_depth_violations('echo "it\\"s" {target_file}') == []
    assert quote_depth_violations('echo "$(basename {target_file} .py)"') == []
    assert quote_depth_violations('echo "$(x) {target_file}"') == [11]
    assert quote_depth_violations("echo $( (cd a) && '{target_file}')") == [19]


TOOLS = "basename cat comm cut dirname echo grep head ls sed sort tail test touch tr uniq wc xargs"
STUBS = "coverage git pytest python python3"


def sandbox_path(folder: Path) -> str:
    """A PATH of real shell tools, where the heavy programs (python, git) do nothing.

    The shell's own expansions run for real, which is where a name would be executed;
    the programs the commands call only have to not take seconds each.
    """
    folder.mkdir()
    for name in TOOLS.split():
        real = shutil.which(name)
        if real is not None:
            (folder / name).symlink_to(real)
    for name in STUBS.split():
        stub = folder / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return str(folder)


@pytest.mark.slow
@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_no_rendered_command_executes_a_hostile_target_name(tmp_path: Path, target: str) -> None:
    registry = WorkflowRegistry(tmp_path / "project")
    scratch = tmp_path / "scratch"
    (scratch / "src").mkdir(parents=True)
    env = {"PATH": sandbox_path(tmp_path / "bin"), "HOME": str(tmp_path)}
    ran = 0
    for workflow in registry.workflows():
        for phase in workflow.phases:
            for task in phase.tasks:
                rendered = task.content.render(target)["execution_steps"]
                for template, step in zip(task.content.execution_steps, rendered, strict=True):
                    if TARGET_PLACEHOLDER not in (template["command"] or ""):
                        continue
                    subprocess.run(
                        ["/bin/bash", "-c", step["command"]],
                        cwd=scratch,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        capture_output=True,
                        timeout=30,
                        check=False,
                    )
                    ran += 1
                    assert not list(scratch.rglob("PWNED*")), (workflow.workflow_type, step)
    assert ran > 20
