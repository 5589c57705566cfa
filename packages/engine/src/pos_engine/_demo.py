"""Engine demo: run a bundled workflow from start to completion and print each step.

``python -m pos_engine [--workflow TYPE] [--project-root DIR]``. Without a
project root it works in a scratch folder that is removed afterwards. Each
phase is completed with its checkpoint's own ``evidence_example``, after one
deliberately empty submission on the first phase to show a failing gate. Before a
phase whose fields the server verifies, the demo writes the files its example names
(as an agent writes its files before claiming them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._engine import WorkflowEngine
from ._examples import write_example_files
from ._process import freeze_objects_at_exit

__all__ = ["main", "run_demo"]


def run_demo(project_root: Path, workflow_type: str, out: Callable[[str], None]) -> dict[str, Any]:
    """Drive ``workflow_type`` to completion in ``project_root``; return the final state."""
    engine = WorkflowEngine.for_project(project_root)

    def step(label: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        began = time.perf_counter()
        result = call()
        elapsed = (time.perf_counter() - began) * 1000
        out(f"{label:<44} {result.get('session_status', '-'):<10} {elapsed:7.1f} ms")
        return result

    out(f"{'step':<44} {'status':<10} {'time':>10}")
    step("list_workflows", engine.list_workflows)
    started = step(
        f"start {workflow_type}", lambda: engine.start_workflow(workflow_type, "src/calculator.py")
    )
    sid = started["session_id"]
    first = started["current_phase"]
    failed = step(
        f"complete_phase {first} with no evidence", lambda: engine.complete_phase(sid, first, {})
    )
    out(f"  -> gate says: {failed['error']}")
    step(f"retry_phase {first}", lambda: engine.retry_phase(sid, first))
    while True:
        current = engine.get_current_phase(sid)
        phase = current["current_phase"]
        content = current["phase_content"]
        for task in content["tasks"]:
            step(
                f"get_task {phase}.{task['task_number']} {task['name']}"[:44],
                lambda p=phase, t=task["task_number"]: engine.get_task(sid, p, t),  # type: ignore[misc]
            )
        evidence = content["checkpoint"]["evidence_example"]
        for written in write_example_files(project_root, content["checkpoint"]):
            out(f"  (wrote {written}, which the checkpoint verifies)")
        done = step(
            f"complete_phase {phase} ({content['title']})"[:44],
            lambda p=phase, e=evidence: engine.complete_phase(sid, p, e),  # type: ignore[misc]
        )
        if done["workflow_completed"]:
            break
    state = step("get_state", lambda: engine.get_workflow_state(sid))
    out(f"completed phases {state['completed_phases']} of {workflow_type}; session {sid}")
    return state


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of the engine demo."""
    freeze_objects_at_exit()
    parser = argparse.ArgumentParser(
        prog="python -m pos_engine", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--workflow", default="test_generation_v3", help="bundled workflow to run")
    parser.add_argument(
        "--project-root", type=Path, help="project folder (default: a scratch folder)"
    )
    args = parser.parse_args(argv)
    if args.project_root is not None:
        run_demo(args.project_root, args.workflow, print)
        return 0
    with tempfile.TemporaryDirectory(prefix="pos-engine-demo-") as scratch:
        run_demo(Path(scratch), args.workflow, print)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
