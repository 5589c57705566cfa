"""Record the runbook's pos-cutover transcripts from real runs on the demo and a praxis-os project.

    uv run python docs/examples/cutover/record.py

Each scenario makes a fresh project in a scratch folder: the demo
(``pos-cutover demo``, named ``calculator-demo``), or for the ``praxis-*``
scenarios a copy of ``tests/fixtures/praxis-project`` (named
``praxis-project``). It runs the scenario's commands there with ``--project
<name>`` and writes what they print (stdout, then stderr when there is any),
prefixed by the command line and followed by its exit code, to ``<scenario>.txt``
beside this file. The praxis run also leaves ``praxis-cursor-mcp-after.json``,
the project's ``.cursor/mcp.json`` after the cutover. Times, backup ids, session
ids, latencies and absolute paths differ from run to run; the rest is what a
release engineer sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parents[2] / "tests" / "fixtures" / "praxis-project"
PROJECT = "calculator-demo"
PRAXIS = "praxis-project"

SCENARIOS: dict[str, list[list[str]]] = {
    "check": [["check"]],
    "run": [["run", "--environment", "staging", "--tester", "release-engineer"]],
    "run-again": [["run"]],
    "rollback": [["rollback"]],
    "steps": [["backup"], ["apply"], ["verify"], ["report"], ["run"]],
    "interrupted": [["run"]],
    "unknown-backup": [["rollback", "--backup", "cutover-20990101T000000Z"]],
    "not-a-project": [["run"]],
    "praxis-check": [["check"]],
    "praxis-run": [["run", "--environment", "staging", "--tester", "release-engineer"]],
    "praxis-rollback": [["rollback"]],
}
"""Scenario -> the commands whose output is recorded, in order."""

SETUP: dict[str, list[list[str]]] = {
    "run-again": [["run"]],
    "rollback": [["run"]],
    "interrupted": [["backup"], ["apply"]],
    "praxis-rollback": [["run"]],
}
"""Commands run (unrecorded) before a scenario's recorded ones."""


def pos_cutover(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``pos-cutover`` (from this interpreter's environment) in ``cwd``."""
    command = [sys.executable, "-m", "pos_cutover", *args, "--log-level", "ERROR"]
    # Logs (the engine's warnings about workflows it cannot serve) stay out of transcripts.
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    # The command is this interpreter and fixed arguments, never outside input.
    return subprocess.run(  # noqa: S603
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def with_project(args: list[str], project: str) -> list[str]:
    return [args[0], "--project", project, *args[1:]]


def make_project(name: str, cwd: Path) -> str:
    """Make the scenario's project in ``cwd``; return its name."""
    if name == "not-a-project":
        (cwd / "notes").mkdir()
        (cwd / "notes" / "README.md").write_text("not a praxis-os project\n", encoding="utf-8")
        return "notes"
    if name.startswith("praxis-"):
        shutil.copytree(FIXTURE, cwd / PRAXIS)
        return PRAXIS
    made = pos_cutover(["demo", PROJECT], cwd)
    if made.returncode != 0:
        raise SystemExit(f"demo failed: {made.stderr}")
    return PROJECT


def record(name: str) -> str:
    """Run one scenario on a fresh project and return its transcript."""
    with tempfile.TemporaryDirectory(prefix="pos-cutover-docs-") as scratch:
        cwd = Path(scratch)
        project = make_project(name, cwd)
        for args in SETUP.get(name, []):
            pos_cutover(with_project(args, project), cwd)
        parts = []
        for args in SCENARIOS[name]:
            done = pos_cutover(with_project(args, project), cwd)
            shown = " ".join(["pos-cutover", *with_project(args, project)])
            output = done.stdout.rstrip() or done.stderr.rstrip()
            parts.append(f"$ {shown}\n{output}\n[exit code {done.returncode}]\n")
        if name == "praxis-run":
            after = (cwd / PRAXIS / ".cursor" / "mcp.json").read_bytes()
            (HERE / "praxis-cursor-mcp-after.json").write_bytes(after)
        return "\n".join(parts)


def main() -> None:
    for name in SCENARIOS:
        text = record(name)
        (HERE / f"{name}.txt").write_text(text, encoding="utf-8")
        print(f"{name}.txt: {text.splitlines()[-1]}")


if __name__ == "__main__":
    main()
