"""Record the runbook's pos-cutover transcripts from real runs on the demo project.

    uv run python docs/examples/cutover/record.py

Each scenario materialises a fresh demo project (``pos-cutover demo``) named
``calculator-demo`` in a scratch folder, runs its commands there with
``--project calculator-demo`` and writes what they print to stdout, prefixed by
the command line and followed by its exit code, to ``<scenario>.txt`` beside this
file. Times, backup ids, session ids and latencies differ from run to run; the
rest is what a release engineer sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = "calculator-demo"

SCENARIOS: dict[str, list[list[str]]] = {
    "check": [["check"]],
    "run": [["run", "--environment", "staging", "--tester", "release-engineer"]],
    "run-again": [["run"]],
    "rollback": [["rollback"]],
    "steps": [["backup"], ["apply"], ["verify"], ["report"], ["run"]],
    "interrupted": [["run"]],
    "unknown-backup": [["rollback", "--backup", "cutover-20990101T000000Z"]],
}
"""Scenario -> the commands whose output is recorded, in order."""

SETUP: dict[str, list[list[str]]] = {
    "run-again": [["run"]],
    "rollback": [["run"]],
    "interrupted": [["backup"], ["apply"]],
}
"""Commands run (unrecorded) before a scenario's recorded ones."""


def pos_cutover(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``pos-cutover`` (from this interpreter's environment) in ``cwd``."""
    command = [sys.executable, "-m", "pos_cutover", *args]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    # The command is this interpreter and fixed arguments, never outside input.
    return subprocess.run(  # noqa: S603
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def with_project(args: list[str]) -> list[str]:
    return [args[0], "--project", PROJECT, *args[1:]]


def record(name: str) -> str:
    """Run one scenario on a fresh demo project and return its transcript."""
    with tempfile.TemporaryDirectory(prefix="pos-cutover-docs-") as scratch:
        cwd = Path(scratch)
        made = pos_cutover(["demo", PROJECT], cwd)
        if made.returncode != 0:
            raise SystemExit(f"demo failed: {made.stderr}")
        for args in SETUP.get(name, []):
            pos_cutover(with_project(args), cwd)
        parts = []
        for args in SCENARIOS[name]:
            done = pos_cutover(with_project(args), cwd)
            shown = " ".join(["pos-cutover", *with_project(args)])
            parts.append(f"$ {shown}\n{done.stdout.rstrip()}\n[exit code {done.returncode}]\n")
        return "\n".join(parts)


def main() -> None:
    for name in SCENARIOS:
        text = record(name)
        (HERE / f"{name}.txt").write_text(text, encoding="utf-8")
        print(f"{name}.txt: {text.splitlines()[-1]}")


if __name__ == "__main__":
    main()
