"""Verification: a fresh server subprocess proves the new surface works and lost nothing.

Over the MCP SDK's stdio client, exactly as an IDE would:

1. tools/list has the planned count, every required tool, none of the old ones;
2. calling each old name answers "Unknown tool";
3. all 14 pos_workflow actions answer (on a probe session of their own);
4. whole workflows run from start to completion (at least 3), timed: list_workflows,
   start and complete_phase against ``specs/thresholds.json``;
5. the canary session started through the old tools before the cutover is
   continued to completion through pos_workflow (once: the backup's
   ``canary.json`` records it, so a later verification of the same cutover
   does not need the session, which is removed afterwards);
6. every session of the backup's state manifest is still listed;
7. every legacy session the migration created answers get_state, get_phase
   and get_task at its phase;
8. every client entry the cutover wrote starts (or answers at its URL) and lists
   pos_workflow, started the way its IDE would (see ``pos_cutover._launch``), and
   the praxis server's config.json no longer enables its workflow group.

An action passes only when it was called and answered: a call the smoke walk
never made, or an answer that does not come from pos_workflow (it must echo the
action), fails it.

Phases whose evidence the server checks get their files written in a scratch
folder of the project, ``.praxis-os/.cache/cutover-probe/<run id>/``, removed
afterwards (a leftover of a killed run first); a phase the project gates with an
approval is approved as the probe's own, the audit trail naming
"pos-cutover verification (probe session)" (see ``_probe_work``).

Probe sessions (and the canary) are deleted afterwards. Functional failures fail
the verification (and make ``run`` roll back); a latency over its target is a
warning in the report, not a reason to undo a working cutover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pos_engine import PosError
from pos_tool import ACTIONS

from ._backup import CANARY, Backup, utc_stamp
from ._files import json_bytes
from ._launch import ClientCheck, check_client_entries
from ._legacy import STEP_NAME, MigratedSessionCheck, check_migrated_sessions
from ._migrate import registered_migration_steps
from ._plan import CutoverPlan, thresholds
from ._praxis import PRAXIS_WORKFLOW_GROUP, read_praxis_config
from ._probe import (
    ActionResult,
    Latency,
    WorkflowRun,
    complete_workflow,
    continue_session,
    smoke_actions,
)
from ._probe_work import PROBE_APPROVER, ProbeWork, remove_probe_files, store_approver
from ._server import LiveServer, ServerLauncher, connect
from ._store import STORE_ENV, StoreSetting
from .exceptions import CutoverError, ServerStartError

__all__ = ["VERIFICATION_FILE", "Verification", "load_verification", "verify"]

VERIFICATION_FILE = "verification.json"
"""The verification's record, written into the backup folder."""

TIMED_ACTIONS: tuple[str, ...] = ("list_workflows", "start", "complete_phase")
"""The actions whose latency the report compares with their targets."""

_UNKNOWN_TOOL = "unknown tool"
_MAX_SESSION_CHECKS = 10_000
_PAGE = 500  # the most list_sessions gives in one page
_MAX_LIST_PAGES = 1_000


@dataclass
class Verification:
    """Everything verification found.

    Attributes:
        ok: No functional problem (warnings allowed).
        backup_id: The backup of the cutover verified.
        started_at: When verification began.
        finished_at: When it ended.
        tools: Tool names listed after the cutover.
        expected_tools: The plan's count after the cutover.
        tools_before: Tool names listed before (from the backup).
        problems: Functional failures.
        warnings: Things to look at that do not fail the cutover.
        unknown_tool_answers: Each old name and what calling it answered.
        actions: The 14-action smoke results.
        workflows: The workflows driven to completion.
        continuity: The pre-cutover canary session continued through pos_workflow.
        sessions: Sessions of the backup's manifest and whether each is still listed.
        migrated: The legacy sessions the migration created, and how each answered.
        clients: The client entries the cutover wrote, and how each answered.
        latencies: Measured latency figures.
        server_error: Why the server did not start, when it did not.
    """

    ok: bool = False
    backup_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    tools: list[str] = field(default_factory=list)
    expected_tools: int = 0
    tools_before: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_tool_answers: dict[str, str] = field(default_factory=dict)
    actions: list[ActionResult] = field(default_factory=list)
    workflows: list[WorkflowRun] = field(default_factory=list)
    continuity: WorkflowRun | None = None
    sessions: dict[str, Any] = field(default_factory=dict)
    migrated: list[MigratedSessionCheck] = field(default_factory=list)
    clients: list[ClientCheck] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    server_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the verification as a JSON-able dict."""
        return {
            "ok": self.ok,
            "backup_id": self.backup_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "tools": self.tools,
            "tool_count": len(self.tools),
            "expected_tools": self.expected_tools,
            "tools_before": self.tools_before,
            "problems": self.problems,
            "warnings": self.warnings,
            "unknown_tool_answers": self.unknown_tool_answers,
            "actions": [a.to_dict() for a in self.actions],
            "workflows": [w.to_dict() for w in self.workflows],
            "continuity": self.continuity.to_dict() if self.continuity else None,
            "sessions": self.sessions,
            "migrated": [m.to_dict() for m in self.migrated],
            "clients": [c.to_dict() for c in self.clients],
            "latencies": [
                {**lat.to_dict(), "samples_ms": [round(s, 3) for s in lat.samples_ms]}
                for lat in self.latencies
            ],
            "server_error": self.server_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        """Rebuild a verification from :meth:`to_dict` output."""
        return cls(
            ok=data["ok"],
            backup_id=data["backup_id"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            tools=list(data["tools"]),
            expected_tools=data["expected_tools"],
            tools_before=list(data["tools_before"]),
            problems=list(data["problems"]),
            warnings=list(data["warnings"]),
            unknown_tool_answers=dict(data["unknown_tool_answers"]),
            actions=[ActionResult(**a) for a in data["actions"]],
            workflows=[WorkflowRun(**w) for w in data["workflows"]],
            continuity=WorkflowRun(**data["continuity"]) if data["continuity"] else None,
            sessions=dict(data["sessions"]),
            migrated=[MigratedSessionCheck(**m) for m in data.get("migrated", [])],
            clients=[ClientCheck(**c) for c in data.get("clients", [])],
            latencies=[
                Latency(lat["action"], list(lat["samples_ms"]), float(lat["target_ms"]))
                for lat in data["latencies"]
            ],
            server_error=data["server_error"],
        )


def load_verification(backup: Backup) -> Verification | None:
    """Return the verification recorded in ``backup``, if any."""
    path = backup.path / VERIFICATION_FILE
    if not path.exists():
        return None
    return Verification.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _check_surface(result: Verification, plan: CutoverPlan) -> None:
    if len(result.tools) != plan.expected_after:
        result.problems.append(
            f"tools/list has {len(result.tools)} tools, the plan expects {plan.expected_after}"
        )
    result.problems += [
        f"required tool {t!r} is not listed" for t in plan.present if t not in result.tools
    ]
    result.problems += [f"old tool {t!r} is still listed" for t in plan.absent if t in result.tools]


async def _check_unknown(server: LiveServer, result: Verification, plan: CutoverPlan) -> None:
    for name in plan.absent:
        call = await server.call(name, {})
        answer = call.text or json.dumps(call.payload)
        result.unknown_tool_answers[name] = answer[:200]
        if not (call.is_error and _UNKNOWN_TOOL in answer.lower()):
            result.problems.append(
                f"calling old tool {name!r} did not answer 'Unknown tool' (got {answer[:120]!r})"
            )


def _workflow_types(plan: CutoverPlan, listed: list[str]) -> list[str]:
    wanted = [t for t in plan.workflow_types if t in listed] if plan.workflow_types else listed
    return wanted or listed


async def _exercise(
    server: LiveServer, result: Verification, plan: CutoverPlan, work: ProbeWork
) -> list[str]:
    """Smoke test, timed list_workflows, whole workflows; return the probe sessions to delete."""
    run_id = work.run_id
    result.actions = await smoke_actions(
        server, run_id, plan.workflow_types[0] if plan.workflow_types else None, work=work
    )
    result.problems += [f"action {a.action} failed: {a.detail}" for a in result.actions if not a.ok]
    tested = {a.action for a in result.actions if a.calls}
    result.problems += [f"action {name} was not called" for name in ACTIONS if name not in tested]
    timings: dict[str, list[float]] = {"list_workflows": []}
    listed: list[str] = []
    for _ in range(plan.latency_samples):
        call = await server.pos_workflow("list_workflows")
        timings["list_workflows"].append(call.ms)
        # A dynamic workflow starts on a spec folder, which a probe session does not have.
        listed = [
            w["workflow_type"] for w in call.payload.get("workflows", []) if "dynamic" not in w
        ]
    types = _workflow_types(plan, listed)
    created = []
    for index in range(plan.complete_workflows if types else 0):
        run = await complete_workflow(
            server, types[index % len(types)], f"workflow-{index + 1}", run_id, timings, work=work
        )
        result.workflows.append(run)
        created.append(run.session_id)
        if not run.ok:
            result.problems.append(f"workflow {run.workflow_type} did not complete: {run.detail}")
    if not types:
        result.problems.append("list_workflows offers no workflow to run")
    targets = thresholds()["actions_p95_ms"]
    for action in TIMED_ACTIONS:
        latency = Latency(action, timings.get(action, []), float(targets.get(action, float("inf"))))
        result.latencies.append(latency)
        if not latency.ok:
            result.warnings.append(
                f"{action} p95 {latency.p95_ms:.1f} ms is over its target of {latency.target_ms:.0f} ms"
            )
    return [sid for sid in created if sid]


def _note_approvals(result: Verification) -> None:
    """Say that the verification approved gated phases of its own sessions, and as whom."""
    runs = [*result.workflows, *([result.continuity] if result.continuity else [])]
    approved = sum(run.approvals for run in runs)
    if approved:
        result.warnings.append(
            f"the project gates phases of the workflows run with a person's approval: the "
            f"verification approved {approved} phase(s) of its own probe sessions as "
            f"{PROBE_APPROVER!r} (their audit trails record it)"
        )


async def _check_continuity(
    server: LiveServer, result: Verification, backup: Backup, work: ProbeWork
) -> list[str]:
    canary = backup.canary()
    if not canary or not canary.get("session_id"):
        reason = (canary or {}).get("reason", "no canary session was started before the cutover")
        result.warnings.append(f"session continuity not shown: {reason}")
        return []
    sid = canary["session_id"]
    advanced = canary.get("advanced_phases", 0)
    done = f", {advanced} phase(s) completed through complete_phase" if advanced else ""
    started = f"started through {canary.get('tool')} before the cutover{done}"
    continued = canary.get("continued")
    if isinstance(continued, dict):
        state = await server.pos_workflow("get_state", session_id=sid)
        if state.payload.get("error_type") == "NotFoundError":
            # An earlier verification of this cutover continued it and removed it.
            result.continuity = WorkflowRun(
                str(canary.get("workflow_type", "")),
                sid,
                ok=True,
                phases_completed=int(continued.get("phases_completed", 0)),
                calls=1,
                detail=f"{started}, already continued by the verification of {continued.get('at')}",
            )
            return []
    result.continuity = await continue_session(server, sid, work=work)
    if not result.continuity.detail:
        result.continuity.detail = started
    if not result.continuity.ok:
        result.problems.append(
            f"the session {sid} started before the cutover did not continue to completion"
        )
        return [sid]
    if not isinstance(continued, dict):
        # Recorded before the session is removed: a later verification can rely on it.
        canary["continued"] = {
            "at": utc_stamp(),
            "phases_completed": result.continuity.phases_completed,
        }
        backup.write_output(CANARY, json_bytes(canary))
    return [sid]


async def _listed_ids(server: LiveServer, wanted: set[str]) -> set[str]:
    """The session ids the server's list_sessions shows, page after page while it gives a cursor."""
    found: set[str] = set()
    cursor: str | None = None
    for _ in range(_MAX_LIST_PAGES):
        listed = await server.pos_workflow(
            "list_sessions", limit=_PAGE, **({"cursor": cursor} if cursor else {})
        )
        found |= {str(s.get("session_id")) for s in listed.payload.get("sessions", [])}
        next_cursor = listed.payload.get("next_cursor")
        cursor = next_cursor if isinstance(next_cursor, str) and next_cursor else None
        if cursor is None or wanted <= found:
            break
    return found


def _compare_store(
    project: Path, backup: Backup, store: StoreSetting, result: Verification
) -> dict[str, Any] | None:
    """Compare the store with the backup's inventory through the store API (None: no store yet)."""
    try:
        with store.existing(project) as opened:
            if opened is None:
                return None
            compared = backup.inventory().compare(opened)
    except (CutoverError, PosError) as exc:
        result.problems.append(f"the session store cannot be read: {exc.message}")
        return None
    if compared.lost:
        result.problems.append(
            f"{len(compared.lost)} session(s) of the backup are missing, unreadable or older "
            f"in the store: {compared.summary()}"
        )
    return compared.to_dict()


async def _check_sessions(
    server: LiveServer, result: Verification, backup: Backup, project: Path, store: StoreSetting
) -> None:
    expected = sorted(backup.inventory().sessions)[:_MAX_SESSION_CHECKS]
    found = await _listed_ids(server, set(expected))
    missing = [sid for sid in expected if sid not in found]
    legacy = [e["path"] for e in backup.state()["files"]]
    result.sessions = {
        "expected": len(expected),
        "found": len(expected) - len(missing),
        "missing": missing,
        "store": _compare_store(project, backup, store, result),
    }
    result.sessions["legacy_files"] = len(legacy)
    if legacy and STEP_NAME not in {s.name for s in registered_migration_steps()}:
        result.warnings.append(
            f"{len(legacy)} legacy session file(s) under .praxis-os/.cache/state were not migrated: "
            f"the {STEP_NAME!r} migration step is not registered"
        )
    if missing:
        result.problems.append(
            f"{len(missing)} session(s) of the backup are not listed any more: {missing[:5]}"
        )


async def _check_migrated(server: LiveServer, result: Verification, backup: Backup) -> None:
    result.migrated = await check_migrated_sessions(server, backup)
    for check in result.migrated:
        if not check.ok:
            result.problems.append(
                f"migrated legacy session {check.session_id} ({check.source}) does not answer "
                f"through pos_workflow: {check.detail}"
            )
        elif check.detail:
            result.warnings.append(f"migrated legacy session {check.session_id} {check.detail}")


async def _check_clients(
    project: Path,
    result: Verification,
    backup: Backup,
    launcher: ServerLauncher,
    store: StoreSetting,
) -> None:
    result.clients = await check_client_entries(project, backup, launcher)
    for check in result.clients:
        where = f"{check.file}: {check.name}"
        if check.skipped:
            result.warnings.append(f"{where}: {check.detail}")
        elif not check.ok:
            result.problems.append(f"{where} does not start pos-workflow: {check.detail}")
        elif check.transport == "stdio" and store.url is not None:
            result.warnings.append(
                f"{where} starts pos-workflow on the project's file store, not on "
                f"{store.shown()}, unless the IDE starts it with {STORE_ENV} set to that store"
            )
    if any(c.kind == "praxis-config" for c in backup.changes()):
        config = read_praxis_config(project)
        if config.error or PRAXIS_WORKFLOW_GROUP in config.groups:
            result.problems.append(
                f"the praxis server would still serve its workflow group ({config.describe()}"
                f"{'; ' + config.error if config.error else ''})"
            )


async def verify(
    project: Path,
    plan: CutoverPlan,
    backup: Backup,
    launcher: ServerLauncher | None = None,
    *,
    run_id: str = "verify",
    store: StoreSetting | None = None,
) -> Verification:
    """Verify the cut-over project through a fresh server subprocess; record the result in the backup.

    ``launcher`` must start the server on ``store`` (the project's file store by
    default), which verification also reads directly, through the store API, to
    compare it with the backup's inventory.

    Returns:
        The verification (``ok`` False on any functional problem); it is also
        written to ``verification.json`` in the backup folder.
    """
    setting = store or StoreSetting()
    result = Verification(
        backup_id=backup.backup_id,
        started_at=utc_stamp(),
        expected_tools=plan.expected_after,
        tools_before=backup.tools,
    )
    work = ProbeWork(project, run_id, store_approver(project, setting))
    remove_probe_files(project)  # what a killed verification left
    try:
        async with connect(project, launcher) as server:
            result.tools = await server.tool_names()
            _check_surface(result, plan)
            await _check_unknown(server, result, plan)
            if "pos_workflow" in result.tools:
                created = await _exercise(server, result, plan, work)
                created += await _check_continuity(server, result, backup, work)
                _note_approvals(result)
                await _check_sessions(server, result, backup, project, setting)
                await _check_migrated(server, result, backup)
                await _check_clients(project, result, backup, launcher or ServerLauncher(), setting)
                for sid in created:
                    await server.pos_workflow(
                        "delete_session", session_id=sid, reason="pos-cutover verification done"
                    )
    except ServerStartError as exc:
        result.server_error = exc.message
        result.problems.append(f"the server does not start after the cutover: {exc.message}")
    finally:
        work.remove()
    result.ok = not result.problems
    result.finished_at = utc_stamp()
    backup.write_output(VERIFICATION_FILE, json_bytes(result.to_dict()))
    return result
