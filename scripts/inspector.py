"""A second MCP client: the MCP Inspector's CLI calls every pos_workflow action.

Usage::

    uv run python scripts/inspector.py [--inspector @modelcontextprotocol/inspector@0.15.0]
        [--cache DIR]

The Inspector is installed once from the npm registry into ``--cache`` (default
``.nox/_inspector``). Each call is ``mcp-inspector --cli <pos-workflow serve ...> --method tools/call
--tool-name pos_workflow --tool-arg key=value ...``, exactly as a person would type it:
the Inspector turns each ``key=value`` into the type the tool's input schema publishes
(``phase=1`` a number, ``evidence={...}`` an object), so this checks that the schema lets
a generic client call every action, numbers included (``phase=1.0`` too). Prints one row
per call and exits 1 if any answer is not the expected one, or if an action of the tool
has no call here (a new action must get one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos_tool import ACTIONS

DEFAULT_INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"


@dataclass
class Case:
    """One Inspector call: the action, its ``--tool-arg`` values, the status expected."""

    action: str
    args: Callable[[dict[str, Any]], dict[str, str]]
    expect: str = "success"
    note: str = ""


def _sid(ctx: dict[str, Any]) -> str:
    return str(ctx["session_id"])


CASES = [
    Case("list_workflows", lambda c: {}),
    Case(
        "start",
        lambda c: {"workflow_type": "test_generation_v3", "target_file": "src/calculator.py"},
    ),
    Case("get_phase", lambda c: {"session_id": _sid(c)}),
    Case("get_task", lambda c: {"session_id": _sid(c), "phase": "1", "task_number": "1"}),
    Case(
        "get_task",
        lambda c: {"session_id": _sid(c), "phase": "1.0", "task_number": "2"},
        note="phase=1.0",
    ),
    Case(
        "complete_phase",
        lambda c: {"session_id": _sid(c), "phase": "1", "evidence": '{"code_structure": {}}'},
        expect="error",
        note="evidence that fails the checkpoint",
    ),
    Case("get_errors", lambda c: {"session_id": _sid(c)}),
    Case("retry_phase", lambda c: {"session_id": _sid(c), "phase": "1"}),
    Case(
        "complete_phase",
        lambda c: {"session_id": _sid(c), "phase": "1", "evidence": json.dumps(c["example"])},
        note="the checkpoint's evidence_example",
    ),
    Case("get_state", lambda c: {"session_id": _sid(c)}),
    Case("list_sessions", lambda c: {"status": "active"}),
    Case("get_session", lambda c: {"session_id": _sid(c)}),
    Case("pause", lambda c: {"session_id": _sid(c), "checkpoint_note": "lunch"}),
    Case("resume", lambda c: {"session_id": _sid(c)}),
    Case("rollback", lambda c: {"session_id": _sid(c), "to_phase": "1"}),
    Case("delete_session", lambda c: {"session_id": _sid(c), "reason": "inspector walk done"}),
]


def _call(inspector: list[str], server: list[str], action: str, args: dict[str, str]) -> Any:
    command = [
        *inspector,
        "--cli",
        *server,
        "--method",
        "tools/call",
        "--tool-name",
        "pos_workflow",
        "--tool-arg",
        f"action={action}",
    ]
    for key, value in args.items():
        command += ["--tool-arg", f"{key}={value}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"inspector exited {done.returncode}: {done.stderr.strip()[-300:]}")
    result = json.loads(done.stdout)
    return json.loads(result["content"][0]["text"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inspector", default=DEFAULT_INSPECTOR, help="npm package to run")
    parser.add_argument(
        "--cache", type=Path, default=Path(".nox/_inspector"), help="where npm installs it"
    )
    args = parser.parse_args()
    npm = shutil.which("npm")
    if npm is None:
        print("inspector: npm (Node.js) is not on PATH; install Node.js 20 or newer")
        return 1
    missing = sorted(set(ACTIONS) - {case.action for case in CASES})
    if missing:
        print(f"inspector: no Inspector call for {missing}: add one to CASES")
        return 1
    binary = args.cache / "node_modules" / ".bin" / "mcp-inspector"
    marker = args.cache / "installed.txt"
    current = marker.read_text() if marker.exists() else ""
    if not binary.exists() or current != args.inspector:
        args.cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(args.cache),
                "--no-audit",
                "--no-fund",
                args.inspector,
            ],
            check=True,
            timeout=600,
        )
        marker.write_text(args.inspector)
    inspector = [str(binary)]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="pos-inspector-") as scratch:
        project = Path(scratch)
        (project / "src").mkdir()
        (project / "src" / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
        pos_workflow = Path(sys.executable).with_name("pos-workflow")
        server = [str(pos_workflow), "serve", "--project-root", str(project), "--no-fsync"]
        ctx: dict[str, Any] = {}
        print(f"{'action':16} {'case':36} {'expected':9} {'got':9} ms")
        for case in CASES:
            started = time.perf_counter()
            try:
                answer = _call(inspector, server, case.action, case.args(ctx))
                got = str(answer.get("status"))
            except (RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
                answer, got = {"error": str(exc)}, "crash"
            ms = (time.perf_counter() - started) * 1000
            ok = got == case.expect
            failures += not ok
            print(
                f"{case.action:16} {case.note or 'plain':36} {case.expect:9} {got:9} {ms:6.0f}"
                + ("" if ok else f"  UNEXPECTED: {str(answer.get('error'))[:200]}")
            )
            if case.action == "start" and ok:
                ctx["session_id"] = answer["session_id"]
                ctx["example"] = answer["phase_content"]["checkpoint"]["evidence_example"]
    print(f"inspector: {len(CASES)} calls, {len(CASES) - failures} as expected, {failures} not")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
