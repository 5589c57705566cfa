"""Exercise pos_workflow on a live server: all 14 actions, whole workflows, latencies.

Every session the probe creates targets a file under :data:`PROBE_DIR` and
carries ``options.pos_cutover`` (the run's id: the cutover's backup), so it is
recognisable and removed afterwards (:func:`remove_probe_sessions` also sweeps up
after a killed run, only what this project's cutovers started: several projects may
share one session store).

A phase whose evidence the server checks gets its files written in the run's
scratch folder, and a phase the project gates with an approval is approved as
the probe's own (both through :class:`~pos_cutover._probe_work.ProbeWork`); without
one, such a phase fails its run with a message saying why.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pos_engine import SessionStore
from pos_tool import ACTIONS

from ._probe_work import ProbeEvidenceError, ProbeWork
from ._server import LiveServer, ToolCall

__all__ = [
    "PROBE_DIR",
    "ActionResult",
    "Latency",
    "WorkflowRun",
    "complete_workflow",
    "continue_session",
    "percentile",
    "remove_probe_sessions",
    "smoke_actions",
]

PROBE_DIR = "cutover-probe"
"""Probe sessions target ``cutover-probe/<purpose>.py`` (the file need not exist)."""

_MAX_PHASE_STEPS = 100


@dataclass
class ActionResult:
    """How one action behaved in the smoke test.

    Attributes:
        action: The pos_workflow action.
        group: Its group (discovery, execution, management, recovery).
        ok: Whether every call of the action answered as expected.
        calls: How many calls were made.
        ms: The slowest call's round trip in milliseconds.
        detail: What went wrong, when something did.
    """

    action: str
    group: str
    ok: bool = True
    calls: int = 0
    ms: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict."""
        return asdict(self)


@dataclass
class WorkflowRun:
    """One session driven through pos_workflow.

    Attributes:
        workflow_type: The workflow driven.
        session_id: The session.
        ok: Whether the workflow reached ``completed``.
        phases_completed: Checkpoints passed during this run.
        calls: pos_workflow calls made.
        detail: What went wrong, when something did.
        approvals: Phases the probe approved (the project gates them in gates.json).
    """

    workflow_type: str
    session_id: str
    ok: bool = False
    phases_completed: int = 0
    calls: int = 0
    detail: str = ""
    approvals: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the run as a JSON-able dict."""
        return asdict(self)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values`` by the nearest-rank method."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Latency:
    """Measured round trips of one action against its p95 target.

    Attributes:
        action: The action timed.
        samples_ms: Every round trip, in milliseconds.
        target_ms: The p95 upper bound from ``specs/thresholds.json``.
    """

    action: str
    samples_ms: list[float] = field(default_factory=list)
    target_ms: float = math.inf

    @property
    def p95_ms(self) -> float:
        """The 95th percentile (nearest rank)."""
        return percentile(self.samples_ms, 95)

    @property
    def ok(self) -> bool:
        """Whether the p95 is under the target."""
        return bool(self.samples_ms) and self.p95_ms < self.target_ms

    def to_dict(self) -> dict[str, Any]:
        """Return the figure as a JSON-able dict."""
        return {
            "action": self.action,
            "samples": len(self.samples_ms),
            "p95_ms": round(self.p95_ms, 2) if self.samples_ms else None,
            "median_ms": round(percentile(self.samples_ms, 50), 2) if self.samples_ms else None,
            "target_ms": self.target_ms,
            "ok": self.ok,
        }


def probe_target(purpose: str) -> str:
    """Return the target_file of a probe session."""
    return f"{PROBE_DIR}/{purpose}.py"


def probe_options(run_id: str) -> dict[str, Any]:
    """Return the options that mark a probe session."""
    return {"pos_cutover": run_id}


def _evidence(response: dict[str, Any], work: ProbeWork | None = None) -> dict[str, Any]:
    """The phase's example evidence; with ``work``, its checked files written in scratch.

    Raises:
        ProbeEvidenceError: the phase's checks cannot be met by written files.
    """
    if work is not None:
        return work.evidence(response)
    example = response.get("phase_content", {}).get("checkpoint", {}).get("evidence_example", {})
    return copy.deepcopy(example) if isinstance(example, dict) else {}


def _failure(call: ToolCall) -> str:
    """An error answer in a sentence, with what the server's checks found."""
    error = str(call.payload.get("error") or call.text[:200])
    found = call.payload.get("verification_errors") or []
    return error + "".join(
        f"; {e.get('pointer')} {e.get('check')}: {e.get('message')}" for e in found[:3]
    )


async def _approved(
    server: LiveServer, session_id: str, phase: Any, work: ProbeWork | None
) -> tuple[ToolCall | None, str]:
    """Approve a probe session's phase that awaits approval; return its state after, or why not."""
    if work is None or work.approve is None:
        return None, (
            f"phase {phase} awaits a person's approval (the project gates it) and this probe "
            "cannot approve it"
        )
    refused = await work.approve(session_id, int(phase))
    if refused is not None:
        return None, f"approving phase {phase} of the probe session failed: {refused}"
    state = await server.pos_workflow("get_state", session_id=session_id)
    return state, ""


class _Smoke:
    """Records calls per action; an action passes only once it was called and answered."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.results = {name: ActionResult(name, spec.group) for name, spec in ACTIONS.items()}

    async def call(self, action: str, expect_ok: bool = True, **arguments: Any) -> ToolCall:
        result = await self.server.pos_workflow(action, **arguments)
        record = self.results[action]
        record.calls += 1
        record.ms = max(record.ms, result.ms)
        if result.payload.get("action") != action and record.ok:
            # Every pos_workflow answer, success or error, echoes its action.
            record.ok = False
            record.detail = f"no answer from pos_workflow's {action} (got {result.text[:120]!r})"
        elif result.ok != expect_ok and record.ok:
            record.ok = False
            want = "success" if expect_ok else "an error"
            got = result.payload.get("error") or result.payload.get("status") or result.text[:200]
            record.detail = f"expected {want}, got {got!r}"
        return result

    def fail(self, action: str, detail: str) -> None:
        record = self.results[action]
        if record.ok:
            record.ok = False
            record.detail = detail

    def finish(self) -> list[ActionResult]:
        """The results, an action never called failing (it proved nothing)."""
        for record in self.results.values():
            if record.calls == 0:
                self.fail(record.action, "not called")
        return list(self.results.values())


async def smoke_actions(
    server: LiveServer,
    run_id: str,
    workflow_type: str | None = None,
    *,
    work: ProbeWork | None = None,
) -> list[ActionResult]:
    """Call all 14 actions on a probe session of their own and judge each answer.

    The walk: list_workflows, start, get_phase, get_task, a failing complete_phase,
    get_errors, retry_phase, a passing complete_phase, get_state, pause, resume,
    rollback, list_sessions, get_session, delete_session. The probe session is
    deleted at the end (by delete_session itself). ``work`` writes the files of a
    checked first phase and approves it when the project gates it.

    Returns:
        One result per action, in the order of pos_tool's action table.
    """
    smoke = _Smoke(server)
    listed = await smoke.call("list_workflows")
    workflows = listed.payload.get("workflows", [])
    types = [w["workflow_type"] for w in workflows]
    # The walk needs a strict first checkpoint (empty evidence must fail): prefer our format,
    # since a legacy workflow's first gate may be non-strict; and a workflow that starts on
    # any file (a dynamic one starts on a spec folder).
    current = [
        w["workflow_type"]
        for w in workflows
        if w.get("format", "pos") == "pos" and "dynamic" not in w
    ]
    wtype = workflow_type or (current or types or [""])[0]
    if wtype not in types:
        smoke.fail("list_workflows", f"workflow {wtype!r} is not listed (listed: {types})")
    started = await smoke.call(
        "start",
        workflow_type=wtype,
        target_file=probe_target("smoke"),
        options=probe_options(run_id),
    )
    sid = str(started.payload.get("session_id", ""))
    first = started.payload.get("phase_content", {}).get("phase")
    if not started.ok or not sid or not isinstance(first, int):
        for name in ACTIONS:
            if name not in ("list_workflows", "list_sessions"):
                smoke.fail(name, "not reached: start failed")
        await smoke.call("list_sessions")
        return smoke.finish()
    await smoke.call("get_phase", session_id=sid)
    await smoke.call("get_task", session_id=sid, phase=first, task_number=1)
    failed = await smoke.call(
        "complete_phase", expect_ok=False, session_id=sid, phase=first, evidence={}
    )
    if failed.payload.get("checkpoint_passed") is not False:
        smoke.fail("complete_phase", "empty evidence was not refused with checkpoint_passed false")
    errors = await smoke.call("get_errors", session_id=sid)
    if not errors.payload.get("error_count"):
        smoke.fail("get_errors", "the failed checkpoint was not recorded")
    await smoke.call("retry_phase", session_id=sid, phase=first)
    try:
        evidence = _evidence(started.payload, work)
    except ProbeEvidenceError as exc:
        smoke.fail("complete_phase", str(exc))
        evidence = _evidence(started.payload)
    passed = await smoke.call("complete_phase", session_id=sid, phase=first, evidence=evidence)
    if passed.ok and passed.payload.get("checkpoint_passed") is not True:
        smoke.fail("complete_phase", "the evidence_example did not pass the checkpoint")
    if passed.payload.get("awaiting_approval"):
        # pause and rollback are refused while a phase waits: decide it first.
        _state, why = await _approved(server, sid, first, work)
        if why:
            smoke.fail("complete_phase", why)
    await smoke.call("get_state", session_id=sid)
    await smoke.call("pause", session_id=sid, checkpoint_note="pos-cutover smoke")
    await smoke.call("resume", session_id=sid)
    await smoke.call("rollback", session_id=sid, to_phase=first)
    listed_sessions = await smoke.call("list_sessions")
    ids = {s.get("session_id") for s in listed_sessions.payload.get("sessions", [])}
    if sid not in ids:
        smoke.fail("list_sessions", f"the probe session {sid} is not listed")
    await smoke.call("get_session", session_id=sid)
    deleted = await smoke.call("delete_session", session_id=sid, reason="pos-cutover smoke done")
    if deleted.ok and deleted.payload.get("deleted") is not True:
        smoke.fail("delete_session", "the probe session was not deleted")
    return smoke.finish()


async def _drive(
    server: LiveServer,
    run: WorkflowRun,
    current: dict[str, Any],
    timings: dict[str, list[float]],
    work: ProbeWork | None = None,
) -> None:
    """Complete phases from ``current`` (a response with phase_content) until the workflow completes."""
    for _ in range(_MAX_PHASE_STEPS):
        content = current.get("phase_content", {})
        phase = content.get("phase")
        tasks = content.get("tasks") or []
        if tasks:
            task = await server.pos_workflow(
                "get_task",
                session_id=run.session_id,
                phase=phase,
                task_number=tasks[0].get("task_number", 1),
            )
            run.calls += 1
            if not task.ok:
                run.detail = f"get_task of phase {phase} failed: {task.payload.get('error')}"
                return
        try:
            evidence = _evidence(current, work)
        except ProbeEvidenceError as exc:
            run.detail = f"phase {phase}: {exc}"
            return
        done = await server.pos_workflow(
            "complete_phase", session_id=run.session_id, phase=phase, evidence=evidence
        )
        run.calls += 1
        timings.setdefault("complete_phase", []).append(done.ms)
        if not done.ok:
            run.detail = f"complete_phase {phase} failed: {_failure(done)}"
            return
        if done.payload.get("awaiting_approval"):
            state, why = await _approved(server, run.session_id, phase, work)
            run.calls += 1
            if state is None:
                run.detail = why
                return
            run.approvals += 1
            if state.payload.get("session_status") == "completed":
                run.phases_completed += 1
                run.ok = True
                return
            done = await server.pos_workflow("get_phase", session_id=run.session_id)
            run.calls += 1
        run.phases_completed += 1
        if done.payload.get("workflow_completed"):
            run.ok = True
            return
        current = done.payload
    run.detail = (
        f"still not completed after {_MAX_PHASE_STEPS} phases"  # pragma: no cover - defensive
    )


async def complete_workflow(
    server: LiveServer,
    workflow_type: str,
    purpose: str,
    run_id: str,
    timings: dict[str, list[float]],
    *,
    work: ProbeWork | None = None,
) -> WorkflowRun:
    """Start ``workflow_type`` on a probe target and drive it to completion with evidence_example.

    Start and complete_phase round trips are appended to ``timings``. The session
    stays (so that the report can cite it); remove it with delete_session. ``work``
    writes checked files and approves gated phases (see the module docstring).
    """
    started = await server.pos_workflow(
        "start",
        workflow_type=workflow_type,
        target_file=probe_target(purpose),
        options=probe_options(run_id),
    )
    timings.setdefault("start", []).append(started.ms)
    run = WorkflowRun(workflow_type, str(started.payload.get("session_id", "")), calls=1)
    if not started.ok:
        run.detail = f"start failed: {started.payload.get('error') or started.text[:200]}"
        return run
    await _drive(server, run, started.payload, timings, work)
    return run


async def continue_session(
    server: LiveServer, session_id: str, *, work: ProbeWork | None = None
) -> WorkflowRun:
    """Continue an existing session to completion through pos_workflow (get_phase, then complete_phase)."""
    state = await server.pos_workflow("get_phase", session_id=session_id)
    run = WorkflowRun(
        str(state.payload.get("phase_content", {}).get("workflow_type", "")), session_id, calls=1
    )
    if not state.ok:
        run.detail = f"get_phase failed: {state.payload.get('error') or state.text[:200]}"
        return run
    got = await server.pos_workflow("get_state", session_id=session_id)
    run.calls += 1
    run.workflow_type = str(got.payload.get("workflow_type", run.workflow_type))
    if got.payload.get("session_status") == "completed":
        run.ok = True
        return run
    if got.payload.get("session_status") == "awaiting_approval":
        phase = state.payload.get("phase_content", {}).get("phase")
        after, why = await _approved(server, session_id, phase, work)
        if after is None:
            run.detail = why
            return run
        state = await server.pos_workflow("get_phase", session_id=session_id)
        run.calls += 2
        if after.payload.get("session_status") == "completed":
            run.ok = True
            return run
    await _drive(server, run, state.payload, {}, work)
    return run


def remove_probe_sessions(
    store: SessionStore, run_ids: Collection[str] | None = None, canaries: Collection[str] = ()
) -> list[str]:
    """Delete the probe sessions (those targeting ``cutover-probe/``) of the store.

    The scratch folders such a run left in the project are the caller's to remove
    (``CutoverSteps.remove_probes`` does both): the store may live outside the project.

    Args:
        store: The session store.
        run_ids: Only those whose ``options.pos_cutover`` is one of these run ids (the
            project's backups), or whose id is in ``canaries``; None: every probe session.
        canaries: Ids of canary sessions started before canaries carried a run id.

    Returns:
        The ids removed.
    """
    probes: list[str] = []
    cursor: str | None = None
    while True:
        page = store.list_page(limit=500, cursor=cursor)
        probes += [
            s.session_id for s in page.summaries if s.target_file.startswith(PROBE_DIR + "/")
        ]
        cursor = page.next_cursor
        if cursor is None:
            break
    if run_ids is not None:
        found, _ = store.load_many(probes)
        probes = [
            sid
            for sid, session in found.items()
            if sid in canaries or session.options.get("pos_cutover") in run_ids
        ]
    return [sid for sid in probes if store.delete(sid)]
