"""Approving and rejecting from ``pos-workflow dashboard``, and only there."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pos_engine import WorkflowEngine, verify_trail
from pos_tool import build_http_app, build_server
from pos_tool._dashboard_approvals import MAX_DECISION_BYTES
from pos_tool._server import build_dashboard_app
from pos_tool.testing import example_evidence

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:8766"
ORIGIN = {"Origin": BASE}
PROMPT = "Check the analysis before tests are planned."
DATA = re.compile(r'<script id="dashboard-data" type="application/json">(.*?)</script>', re.S)


def _gate_phase(project: Path, phase: int) -> None:
    config = project / ".praxis-os" / "config"
    config.mkdir(parents=True, exist_ok=True)
    gate = {"workflow_type": "test_generation_v3", "phase": phase, "prompt": PROMPT}
    (config / "gates.json").write_text(
        json.dumps({"version": 1, "approvals": [gate]}), encoding="utf-8"
    )


@pytest.fixture
async def waiting(call: Any, project: Path) -> tuple[str, int]:
    """A session whose current phase awaits a person's approval, reached through the MCP tool."""
    started = await call("start", workflow_type="test_generation_v3", target_file="src/calc.py")
    sid, phase = started["session_id"], started["current_phase"]
    _gate_phase(project, phase)
    evidence = example_evidence(await call("get_phase", session_id=sid), project)
    submitted = await call("complete_phase", session_id=sid, phase=phase, evidence=evidence)
    assert submitted["session_status"] == "awaiting_approval", submitted
    return sid, phase


@pytest.fixture
async def dashboard(project: Path) -> AsyncIterator[httpx2.AsyncClient]:
    app = build_dashboard_app(project, host="127.0.0.1", port=8766)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http:
        yield http


async def _page_data(http: httpx2.AsyncClient) -> dict[str, Any]:
    page = await http.get("/dashboard")
    assert page.status_code == 200
    policy = dict(
        d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";")
    )
    assert "'sha256-" in policy["script-src"] and "unsafe" not in policy["script-src"]
    assert (policy["connect-src"], policy["form-action"]) == ("'self'", "'none'")
    found = DATA.search(page.text)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _status(project: Path, sid: str) -> tuple[str, int]:
    session = WorkflowEngine.for_project(project).state_manager.load(sid)
    return session.status, session.current_phase


async def test_the_page_lists_the_waiting_phase_and_approving_moves_it_on(
    project: Path, waiting: tuple[str, int], dashboard: httpx2.AsyncClient, call: Any
) -> None:
    sid, phase = waiting
    approvals = (await _page_data(dashboard))["approvals"]
    [item] = approvals["pending"]
    assert (item["session_id"], item["phase"], item["prompt"]) == (sid, phase, PROMPT)
    assert item["workflow_type"] == "test_generation_v3" and item["requested_at"]
    assert item["evidence_preview"].startswith("{") and len(approvals["csrf_token"]) >= 32

    answer = await dashboard.post(
        "/dashboard/approvals/approve",
        json={
            "csrf_token": approvals["csrf_token"],
            "session_id": sid,
            "phase": phase,
            "by": "carol",
            "reason": "looks right",
        },
        headers=ORIGIN,
    )

    assert answer.status_code == 200, answer.text
    assert (answer.json()["decision"], answer.json()["by"]) == ("approved", "carol")
    state = await call("get_state", session_id=sid)
    assert (state["session_status"], state["current_phase"]) == ("active", phase + 1)
    session = WorkflowEngine.for_project(project).state_manager.load(sid)
    [entry] = [e for e in session.audit if e.kind == "approval"]
    assert (entry.phase, entry.data["decision"], entry.data["by"]) == (phase, "approved", "carol")
    assert entry.data["reason"] == "looks right"
    assert verify_trail(session).ok
    assert (await _page_data(dashboard))["approvals"]["pending"] == []


async def test_rejecting_reopens_the_phase_and_the_agent_reads_the_reason(
    project: Path, waiting: tuple[str, int], dashboard: httpx2.AsyncClient, call: Any
) -> None:
    sid, phase = waiting
    token = (await _page_data(dashboard))["approvals"]["csrf_token"]
    decision = {"csrf_token": token, "session_id": sid, "phase": phase, "by": "dave"}

    missing = await dashboard.post("/dashboard/approvals/reject", json=decision, headers=ORIGIN)
    assert missing.status_code == 400 and "reason" in missing.json()["error"]
    assert _status(project, sid) == ("awaiting_approval", phase)

    rejected = await dashboard.post(
        "/dashboard/approvals/reject",
        json={**decision, "reason": "the analysis misses divide()"},
        headers=ORIGIN,
    )

    assert rejected.status_code == 200, rejected.text
    state = await call("get_state", session_id=sid)
    assert (state["session_status"], state["current_phase"]) == ("active", phase)
    errors = await call("get_errors", session_id=sid)
    assert "the analysis misses divide()" in errors["last_error"]["message"]
    again = await dashboard.post(
        "/dashboard/approvals/reject", json={**decision, "reason": "twice"}, headers=ORIGIN
    )
    assert again.status_code == 409 and "awaiting" in again.json()["error"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"csrf_token": None}, 403),
        ({"csrf_token": "x" * 43}, 403),
        ({"by": "  "}, 400),
        ({"phase": "1"}, 400),
        ({"session_id": "../../etc/passwd"}, 400),
        ({"session_id": "no_such_session"}, 404),
    ],
)
async def test_a_bad_decision_is_refused_and_changes_nothing(
    project: Path,
    waiting: tuple[str, int],
    dashboard: httpx2.AsyncClient,
    change: dict[str, Any],
    status: int,
) -> None:
    sid, phase = waiting
    token = (await _page_data(dashboard))["approvals"]["csrf_token"]
    decision = {"csrf_token": token, "session_id": sid, "phase": phase, "by": "eve", **change}
    decision = {k: v for k, v in decision.items() if v is not None}

    answer = await dashboard.post("/dashboard/approvals/approve", json=decision, headers=ORIGIN)

    assert answer.status_code == status, answer.text
    assert answer.json()["status"] == "error" and answer.json()["error"]
    assert str(project) not in answer.text and "Traceback" not in answer.text
    assert _status(project, sid) == ("awaiting_approval", phase)


JSON = {**ORIGIN, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "case",
    [
        ({"Origin": "http://evil.example"}, None, 403),
        ({}, None, 403),  # a browser always names the Origin of a POST
        ({**ORIGIN, "Host": "evil.example:8766"}, None, 421),
        ({**ORIGIN, "Content-Type": "text/plain"}, b"{}", 400),
        (JSON, b"{" * (MAX_DECISION_BYTES + 1), 413),
        (JSON, b"not json", 400),
        (JSON, b"[]", 400),
    ],
)
async def test_a_foreign_or_malformed_request_is_refused(
    project: Path,
    waiting: tuple[str, int],
    dashboard: httpx2.AsyncClient,
    case: tuple[dict[str, str], bytes | None, int],
) -> None:
    headers, content, status = case
    sid, phase = waiting
    token = (await _page_data(dashboard))["approvals"]["csrf_token"]
    decision = {"csrf_token": token, "session_id": sid, "phase": phase, "by": "mallory"}
    url = "/dashboard/approvals/approve"

    if content is None:
        answer = await dashboard.post(url, json=decision, headers=headers)
    else:
        answer = await dashboard.post(url, content=content, headers=headers)

    assert answer.status_code == status, answer.text
    assert _status(project, sid) == ("awaiting_approval", phase)


async def test_the_dashboard_beside_mcp_has_no_approvals(
    project: Path, waiting: tuple[str, int]
) -> None:
    sid, phase = waiting
    app = build_http_app(build_server(project, durable=False), port=8765)
    base = "http://127.0.0.1:8765"
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=base) as http:
        page = await http.get("/dashboard/data")
        assert page.status_code == 200 and "approvals" not in page.json()
        for verb in ("approve", "reject"):
            answer = await http.post(
                f"/dashboard/approvals/{verb}",
                json={"session_id": sid, "phase": phase, "by": "agent", "reason": "mine"},
                headers={"Origin": base},
            )
            assert answer.status_code in (404, 405), (verb, answer.status_code)
    assert _status(project, sid) == ("awaiting_approval", phase)
