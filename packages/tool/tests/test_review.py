"""Issue 13 through the real MCP server and the real CLI: checked evidence, approvals, audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pos_engine.testing.verified import WF, install, make_change, write_tests
from pos_tool import build_server
from pos_tool.cli import main
from pos_tool.testing import call_pos_workflow, example_evidence

pytestmark = pytest.mark.anyio

TARGET = "src/calculator.py"
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "workflows"


async def _start(call: Any) -> dict[str, Any]:
    started: dict[str, Any] = await call(
        "start", workflow_type="test_generation_v3", target_file=TARGET
    )
    assert started["status"] == "success"
    return started


def _gate_phase(project: Path, phase: int) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "gates.json").write_text(
        json.dumps(
            {
                "version": 1,
                "approvals": [
                    {
                        "workflow_type": "test_generation_v3",
                        "phase": phase,
                        "prompt": "Check the analysis before tests are planned.",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
async def test_a_claimed_test_file_fails_the_checkpoint_until_it_is_written(project: Path) -> None:
    install(project, EXAMPLES / WF)
    async with Client(build_server(project, durable=False)) as client:
        started = await call_pos_workflow(
            client, "start", workflow_type=WF, target_file="src/calculator.py"
        )
        sid = started["session_id"]
        changed = await call_pos_workflow(
            client, "complete_phase", session_id=sid, phase=1, evidence=make_change(project)
        )
        assert changed["checkpoint_passed"] is True, changed
        claimed = {"test_file": "tests/test_calculator.py", "test_count": 1}  # not written

        failed = await call_pos_workflow(
            client, "complete_phase", session_id=sid, phase=2, evidence=claimed
        )

        assert (failed["status"], failed["checkpoint_passed"]) == ("error", False)
        assert [(e["pointer"], e["check"]) for e in failed["verification_errors"]] == [
            ("/test_file", "file_exists")
        ]
        assert "file does not exist" in failed["verification_errors"][0]["message"]
        assert str(project) not in json.dumps(failed)
        errors = await call_pos_workflow(client, "get_errors", session_id=sid)
        assert (
            errors["last_error"]["details"]["verification_errors"]
            == (failed["verification_errors"])
        )

        passed = await call_pos_workflow(
            client, "complete_phase", session_id=sid, phase=2, evidence=write_tests(project)
        )

        assert passed["checkpoint_passed"] is True, passed
        outcomes = {r["check"]: r["outcome"] for r in passed["verification"]}
        assert outcomes["file_contains"] == "passed"
        assert outcomes["command"] == "skipped"  # commands are off unless gates.json enables them


@pytest.mark.slow
async def test_an_approval_gated_phase_waits_for_a_person_through_the_cli(
    call: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await _start(call)
    sid, phase = response["session_id"], response["current_phase"]
    _gate_phase(project, phase)
    evidence = example_evidence(await call("get_phase", session_id=sid), project)

    waiting = await call("complete_phase", session_id=sid, phase=phase, evidence=evidence)

    assert (waiting["status"], waiting["session_status"]) == ("success", "awaiting_approval")
    assert waiting["approval"]["agent_can_decide"] is False
    state = await call("get_state", session_id=sid)
    assert (state["session_status"], state["current_phase"]) == ("awaiting_approval", phase)
    listed = await call("list_sessions", status="awaiting_approval")
    assert [s["session_id"] for s in listed["sessions"]] == [sid]
    for action, args in [
        ("complete_phase", {"phase": phase + 1, "evidence": evidence}),
        ("retry_phase", {"phase": phase}),
        ("rollback", {"to_phase": phase}),
        ("pause", {}),
    ]:
        refused = await call(action, session_id=sid, **args)
        assert (action, refused["status"], refused["error_type"]) == (
            action,
            "error",
            "StateError",
        )
    assert (await call("get_state", session_id=sid))["session_status"] == "awaiting_approval"

    code, out, _ = _cli(capsys, "pending", "--project-root", str(project))
    assert code == 0 and sid in out

    code, out, _ = _cli(
        capsys,
        "reject",
        "--project-root",
        str(project),
        sid,
        str(phase),
        "--by",
        "alice",
        "--reason",
        "the analysis misses divide()",
    )
    assert (code, out.startswith(f"rejected phase {phase} of {sid} (by alice)")) == (0, True)
    reopened = await call("get_state", session_id=sid)
    assert (reopened["session_status"], reopened["current_phase"]) == ("active", phase)
    errors = await call("get_errors", session_id=sid)
    assert "the analysis misses divide()" in errors["last_error"]["message"]

    again = await call("complete_phase", session_id=sid, phase=phase, evidence=evidence)
    assert again["session_status"] == "awaiting_approval"
    code, out, _ = _cli(
        capsys, "approve", "--project-root", str(project), sid, str(phase), "--by", "bob"
    )
    assert (code, out.startswith(f"approved phase {phase} of {sid} (by bob)")) == (0, True)
    moved = await call("get_state", session_id=sid)
    assert (moved["session_status"], moved["current_phase"]) == ("active", phase + 1)
    assert phase in moved["completed_phases"]

    code, out, _ = _cli(capsys, "verify-session", "--project-root", str(project), sid)
    assert (code, "audit trail intact" in out) == (0, True)


@pytest.mark.slow
async def test_verify_session_names_the_edited_entry_and_exits_1(
    call: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await _start(call)
    sid, phase = response["session_id"], response["current_phase"]
    evidence = example_evidence(response, project)
    assert (await call("complete_phase", session_id=sid, phase=phase, evidence=evidence))[
        "checkpoint_passed"
    ]
    path = project / ".praxis-os" / "state" / "workflows" / f"{sid}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    entry = record["audit"][1]
    entry["at"] += " "  # one byte more in entry 1
    path.write_text(json.dumps(record), encoding="utf-8")

    code, out, _ = _cli(capsys, "verify-session", "--project-root", str(project), sid)

    assert code == 1
    assert f"{sid}: FAILED" in out
    assert "entry 1" in out


async def test_the_tool_offers_no_way_to_approve(call: Any) -> None:
    refused = await call("approve", session_id="x", phase=1)

    assert (refused["status"], refused["error_type"]) == ("error", "ValidationError")
    assert "approve" not in refused["valid_actions"]
