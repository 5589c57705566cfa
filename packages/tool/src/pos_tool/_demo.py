"""The main job: drive a bundled workflow to completion through a real MCP client.

The server runs as a stdio subprocess (``python -m pos_tool serve``), exactly as
an IDE would start it; every step goes through the MCP SDK's client and is
printed as ``action, phase, status, milliseconds``. Before a phase whose fields
the server verifies (``x-verify``), the demo writes the files its example evidence
names, as an agent writes its files before claiming them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from pos_engine import write_example_files

__all__ = ["DemoFailure", "run_demo"]

DEMO_TARGET = "src/calculator.py"
_CALCULATOR = '''"""A tiny module for the demo workflow to work on."""


def add(a: float, b: float) -> float:
    return a + b


def divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b
'''


class DemoFailure(RuntimeError):
    """A demo step answered with an error."""


def prepare_project(project_root: Path) -> None:
    """Give the project a target file to work on (kept if it exists)."""
    target = project_root / DEMO_TARGET
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_CALCULATOR, encoding="utf-8")


def server_parameters(
    project_root: Path, log_level: str = "WARNING", *, durable: bool = True
) -> StdioServerParameters:
    """Return how to launch ``python -m pos_tool serve`` for ``project_root``.

    ``durable=False`` adds ``--no-fsync`` (tests trade crash durability for speed).
    """
    args = [
        "-m",
        "pos_tool",
        "serve",
        "--project-root",
        str(project_root),
        "--log-level",
        log_level,
    ]
    return StdioServerParameters(
        command=sys.executable, args=[*args, *([] if durable else ["--no-fsync"])]
    )


class _Steps:  # pylint: disable=too-few-public-methods
    """Calls pos_workflow and prints one line per call."""

    def __init__(self, client: Client, out: Callable[[str], None]) -> None:
        self.client = client
        self.out = out
        self.count = 0

    async def call(self, action: str, **arguments: Any) -> dict[str, Any]:
        """Call ``action``, print its line, and return the response (raise on an error)."""
        began = time.perf_counter()
        result = await self.client.call_tool("pos_workflow", {"action": action, **arguments})
        elapsed = (time.perf_counter() - began) * 1000
        response: dict[str, Any] = result.structured_content or json.loads(result.content[0].text)  # type: ignore[union-attr]
        phase = arguments.get("phase", response.get("current_phase", "-"))
        self.count += 1
        self.out(f"{action:<16} {phase!s:>5}  {response['status']:<8} {elapsed:8.1f} ms")
        if response["status"] != "success":
            raise DemoFailure(f"{action} failed: {response.get('error')}")
        return response


async def run_demo(
    project_root: Path,
    workflow_type: str,
    out: Callable[[str], None],
    *,
    log_level: str = "WARNING",
    scratch: bool = False,
) -> dict[str, Any]:
    """Drive ``workflow_type`` from start to completion; return the final get_state response.

    ``scratch`` says the project is a temporary folder the caller removes afterwards, so
    its path is not printed as if it could be opened later.

    Raises:
        DemoFailure: a step answered with an error.
    """
    prepare_project(project_root)
    where = (
        "a scratch folder, removed when the demo ends (--project-root DIR keeps one)"
        if scratch
        else str(project_root)
    )
    out(f"project {where}  (server: python -m pos_tool serve, over stdio)")
    out(f"{'action':<16} {'phase':>5}  {'status':<8} {'time':>11}")
    failure: DemoFailure | None = None
    async with Client(server_parameters(project_root, log_level)) as client:
        steps = _Steps(client, out)
        try:
            state = await _drive(steps, workflow_type, project_root, out)
        except DemoFailure as exc:
            failure = exc  # re-raised below, outside the client's task group: no ExceptionGroup
    if failure is not None:
        raise failure
    out(
        f"{workflow_type} completed: phases {state['completed_phases']} in {steps.count} calls; "
        f"session {state['session_id']}"
    )
    return state


async def _drive(
    steps: _Steps, workflow_type: str, project_root: Path, out: Callable[[str], None]
) -> dict[str, Any]:
    await steps.call("list_workflows")
    current = await steps.call("start", workflow_type=workflow_type, target_file=DEMO_TARGET)
    session_id = current["session_id"]
    while True:
        content = current["phase_content"]
        phase = content["phase"]
        for task in content["tasks"]:
            await steps.call(
                "get_task", session_id=session_id, phase=phase, task_number=task["task_number"]
            )
        evidence = content["checkpoint"]["evidence_example"]
        for written in write_example_files(project_root, content["checkpoint"]):
            out(f"  (wrote {written}: the server checks it before the phase passes)")
        done = await steps.call(
            "complete_phase", session_id=session_id, phase=phase, evidence=evidence
        )
        if done["workflow_completed"]:
            return await steps.call("get_state", session_id=session_id)
        current = done
