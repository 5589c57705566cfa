"""Smoke gate: the real server, started as an IDE starts it, answers all 14 actions.

Usage::

    uv run python scripts/smoke.py                     # scratch project with the fixture workflow
    uv run python scripts/smoke.py --project PATH [--workflow TYPE]

Starts ``python -m pos_tool serve --project-root <project>`` as a subprocess, talks to
it over stdio with the MCP SDK client and walks one session through every action:
start, get_phase, get_task, a failing complete_phase, get_errors, retry_phase,
complete_phase with the phase's checkpoint.evidence_example, get_state, pause,
resume, rollback, completion of every phase, list_sessions, get_session and
delete_session, plus a representative error of each action. Prints one row per
call (action, case, expected, got, ms) and exits 1 on any unexpected answer.

On a real project (``--project``) nothing is written besides the session, which the
walk deletes at the end; the workflow is ``--workflow`` or the first one listed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _client import (
    ACTIONS,
    FIXTURE_WORKFLOW,
    Step,
    call,
    install_fixture_workflow,
    print_table,
    scenario,
    stdio_params,
)


def _got(step: Step) -> str:
    if step.result is None:
        return "-"
    if step.result.problems:
        return "unreadable"
    payload = step.result.payload
    return (
        str(payload.get("status"))
        if payload.get("status") == "success"
        else str(payload.get("error_type"))
    )


async def smoke(
    project: Path, workflow: str | None, errlog_path: Path
) -> tuple[list[Step], float, str]:
    """Run the walk over stdio; return the steps, the connect time in ms and the workflow used."""
    from mcp import Client  # noqa: PLC0415
    from mcp.client.stdio import stdio_client  # noqa: PLC0415

    with errlog_path.open("w", encoding="utf-8") as errlog:
        started = time.perf_counter()
        async with Client(stdio_client(stdio_params(project), errlog=errlog)) as client:
            connect_ms = (time.perf_counter() - started) * 1000
            if workflow is None:
                listed = await call(client, {"action": "list_workflows"})
                types = [w.get("workflow_type") for w in listed.payload.get("workflows", [])]
                workflow = (
                    FIXTURE_WORKFLOW if FIXTURE_WORKFLOW in types else (types[0] if types else "")
                )
            steps = [step async for step in scenario(client, workflow)]
    return steps, connect_ms, workflow


def main(argv: list[str] | None = None) -> int:
    """Run the smoke gate and print its table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--project", type=Path, help="project root to serve (default: a scratch folder)"
    )
    parser.add_argument(
        "--workflow", help="workflow_type to walk (default: the fixture, else the first listed)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pos-smoke-") as tmp:
        project = args.project
        if project is None:
            project = Path(tmp) / "project"
            project.mkdir()
            install_fixture_workflow(project)
        errlog = Path(tmp) / "server-stderr.log"
        steps, connect_ms, workflow = asyncio.run(smoke(project.resolve(), args.workflow, errlog))
        server_log = errlog.read_text(encoding="utf-8", errors="replace")
    print(
        f"server: python -m pos_tool serve (stdio), workflow {workflow!r}, connected in {connect_ms:.0f} ms\n"
    )
    rows = [
        (
            n,
            s.action,
            s.case,
            s.expect,
            _got(s),
            f"{s.result.ms:.1f}" if s.result else "-",
            "ok" if s.ok else "UNEXPECTED",
        )
        for n, s in enumerate(steps, start=1)
    ]
    print_table(("#", "action", "case", "expected", "got", "ms", "result"), rows)
    bad = [s for s in steps if not s.ok]
    succeeded = {s.action for s in steps if s.expect == "success" and s.ok}
    missing = [a for a in ACTIONS if a not in succeeded]
    print(
        f"\n{len(steps)} calls, {len(steps) - len(bad)} as expected, {len(bad)} unexpected; "
        f"{len(succeeded)}/{len(ACTIONS)} actions succeeded"
    )
    for step in bad:
        detail = (
            step.result.problems or [step.result.payload.get("error", "")]
            if step.result
            else ["no answer"]
        )
        print(f"UNEXPECTED {step.action} ({step.case}): {'; '.join(map(str, detail))[:300]}")
    if missing:
        print(f"FAIL: no successful call of {missing}")
    if bad or missing:
        if server_log.strip():
            print("\nserver stderr (last 40 lines):\n" + "\n".join(server_log.splitlines()[-40:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
