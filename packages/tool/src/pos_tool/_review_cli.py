"""``pos-workflow approve|reject|pending|verify-session``: what people do, never agents.

A phase whose checkpoint needs approval waits in ``awaiting_approval`` until a
person runs ``approve`` (the phase completes) or ``reject --reason`` (the phase
reopens; the agent reads the reason). ``pending`` lists what waits, with the
evidence to review; ``verify-session`` checks a session's hash-chained audit
trail and that its record agrees with it. The MCP tool has none of these: an agent
cannot approve its own work through it.

Sessions are reached through the store (``--store URL``, ``$POS_WORKFLOW_STORE``,
else the project's file store), exactly as the server reaches them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pos_engine import (
    CorruptSessionError,
    PosError,
    Session,
    SessionStore,
    TrailReport,
    ValidationError,
    WorkflowEngine,
    open_store,
    verify_trail,
)

from ._store_cli import STORE_ENV, fail, store_setting

__all__ = [
    "REVIEW_COMMANDS",
    "add_review_commands",
    "login_name",
    "pending_approvals",
    "pending_view",
    "run_review_command",
]

REVIEW_COMMANDS = ("approve", "reject", "pending", "verify-session")
"""The subcommands this module adds to ``pos-workflow``."""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project-root", type=Path, default=Path.cwd(), help="project folder (default: cwd)"
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help=f"where sessions live (default: ${STORE_ENV}, else the project's file store)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def add_review_commands(commands: Any) -> None:
    """Add the approval and audit commands to the ``pos-workflow`` subcommands."""
    for verb in ("approve", "reject"):
        approving = verb == "approve"
        parser = commands.add_parser(
            verb,
            help=f"{verb} a phase that awaits a person's approval"
            + ("" if approving else " (it reopens, with your reason)"),
            description=(
                "Approve the evidence of a phase in status awaiting_approval: its server checks "
                "run again, then the phase completes."
                if approving
                else "Reject the evidence of a phase in status awaiting_approval: the phase "
                "reopens and your reason becomes an error the agent reads (get_errors, get_phase)."
            ),
        )
        _common(parser)
        parser.add_argument("session_id", metavar="SESSION", help="the session id")
        parser.add_argument("phase", metavar="PHASE", type=int, help="the phase awaiting approval")
        parser.add_argument(
            "--reason",
            required=not approving,
            help="why (required to reject: the agent reads it)"
            if not approving
            else "a note recorded with the approval",
        )
        parser.add_argument(
            "--by", metavar="NAME", help="who decides, for the audit trail (default: login name)"
        )
    pending = commands.add_parser(
        "pending",
        help="list the phases awaiting a person's approval",
        description="List sessions in status awaiting_approval with what to review; "
        "--session shows one session's pending evidence in full.",
    )
    _common(pending)
    pending.add_argument("--session", metavar="SESSION", help="show this session's evidence")
    verify = commands.add_parser(
        "verify-session",
        help="check a session's hash-chained audit trail",
        description="Check that no entry of the session's audit trail was edited, removed or "
        "reordered, and that the session record agrees with the trail (completed phases, their "
        "evidence, pending approvals). Exit status 0: intact; 1: a problem was found.",
    )
    _common(verify)
    verify.add_argument("session_id", metavar="SESSION", nargs="?", help="the session id")
    verify.add_argument("--all", action="store_true", help="check every session of the store")
    verify.add_argument(
        "--entries", action="store_true", help="also print the trail's entries (with --json)"
    )


def login_name() -> str | None:
    """The OS login name, the default approver; None when the system cannot tell."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _who(by: str | None) -> str:
    name = by or login_name()
    if not name:
        raise ValidationError(
            "cannot tell who you are (no login name)",
            remediation="Pass --by NAME.",
        )
    return name


def _with_engine(args: argparse.Namespace, run: Callable[[WorkflowEngine], int]) -> int:
    root: Path = args.project_root
    if not root.is_dir():
        print(
            f"pos-workflow {args.command}: project root {str(root)!r} is not a folder; "
            "pass --project-root with the project's folder",
            file=sys.stderr,
        )
        return 2
    try:
        store = open_store(store_setting(args.store), project_root=root)
    except PosError as exc:
        return fail(args.command, exc)
    try:
        store.check_ready()
        return run(WorkflowEngine.for_project(root, store=store))
    except PosError as exc:
        return fail(args.command, exc)
    finally:
        store.close()


def _decide(args: argparse.Namespace, engine: WorkflowEngine) -> int:
    approving = args.command == "approve"
    by = _who(args.by)
    if approving:
        result = engine.approve_phase(args.session_id, args.phase, by=by, reason=args.reason)
    else:
        result = engine.reject_phase(args.session_id, args.phase, by=by, reason=args.reason)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if approving:
        where = (
            "the workflow is completed"
            if result["workflow_completed"]
            else f"the session is {result['session_status']} at phase {result['current_phase']}"
        )
        checked = sum(1 for r in result["verification"] if r["outcome"] == "passed")
        again = f" after {checked} server check(s) passed again" if result["verification"] else ""
        print(f"approved phase {args.phase} of {args.session_id} (by {by}){again}; {where}")
    else:
        print(
            f"rejected phase {args.phase} of {args.session_id} (by {by}); the phase is open again "
            "and the agent reads your reason with get_errors"
        )
    print(f"audit entry {result['audit_entry']}, head {result['audit_head']}")
    return 0


def pending_view(session: Session) -> dict[str, Any]:
    """What ``pending`` shows of one session awaiting approval (without its evidence)."""
    approval = session.approval
    assert approval is not None  # noqa: S101 - listed because it awaits approval
    return {
        "session_id": session.session_id,
        "workflow_type": session.workflow_type,
        "target_file": session.target_file,
        "phase": approval.phase,
        "prompt": approval.prompt,
        "requested_at": approval.requested_at,
        "evidence_sha256": approval.evidence_sha256,
    }


def pending_approvals(engine: WorkflowEngine) -> list[Session]:
    """The sessions of ``engine``'s store that await a person's approval."""
    summaries = engine.store.list_summaries("awaiting_approval")
    found, _ = engine.store.load_many(s.session_id for s in summaries)
    return [
        found[s.session_id]
        for s in summaries
        if s.session_id in found and found[s.session_id].approval is not None
    ]


def _pending(args: argparse.Namespace, engine: WorkflowEngine) -> int:
    if args.session:
        session = engine.state_manager.load(args.session)
        if session.status != "awaiting_approval" or session.approval is None:
            raise ValidationError(
                f"session {session.session_id!r} is {session.status!r}, not awaiting approval",
                remediation="Run pos-workflow pending to list the sessions that wait.",
            )
        view = pending_view(session)
        view["evidence"] = session.evidence.get(str(session.approval.phase))
        print(json.dumps(view, indent=2, ensure_ascii=False))
        return 0
    views = [pending_view(session) for session in pending_approvals(engine)]
    if args.json:
        print(json.dumps({"pending": views, "count": len(views)}, indent=2))
        return 0
    if not views:
        print("nothing awaits approval")
        return 0
    for view in views:
        print(
            f"{view['session_id']}  phase {view['phase']}  ({view['workflow_type']} on "
            f"{view['target_file']}, since {view['requested_at']})\n  review: {view['prompt']}"
        )
    print(
        "\nshow the evidence: pos-workflow pending --session SESSION; decide: "
        "pos-workflow approve SESSION PHASE, or pos-workflow reject SESSION PHASE --reason ..."
    )
    return 0


def _print_report(report: TrailReport) -> None:
    if report.ok:
        print(
            f"{report.session_id}: audit trail intact, {report.entries} entries, "
            f"head {report.head}; the record agrees with it"
        )
        return
    print(f"{report.session_id}: FAILED ({len(report.problems)} problem(s))")
    for problem in report.problems:
        print(f"  {problem.message}")


def _verify(args: argparse.Namespace, engine: WorkflowEngine) -> int:
    if args.all == bool(args.session_id):
        raise ValidationError(
            "name one SESSION, or pass --all",
            remediation="Run pos-workflow verify-session SESSION, or verify-session --all.",
        )
    store: SessionStore = engine.store
    ids = [s.session_id for s in store.list_summaries()] if args.all else [args.session_id]
    reports = []
    unreadable = list(store.corrupt_ids()) if args.all else []
    for session_id in ids:
        try:
            session = engine.state_manager.load(session_id)
        except CorruptSessionError as exc:  # an unreadable record cannot be verified: it fails
            unreadable.append(session_id)
            print(f"{session_id}: FAILED: {exc.message}", file=sys.stderr)
            continue
        report = verify_trail(session)
        reports.append((session, report))
    ok = all(report.ok for _, report in reports) and not unreadable
    if args.json:
        data: list[dict[str, Any]] = []
        for session, report in reports:
            item = report.to_dict()
            if args.entries:
                item["trail"] = [e.model_dump(mode="json") for e in session.audit]
            data.append(item)
        print(json.dumps({"ok": ok, "sessions": data, "unreadable": unreadable}, indent=2))
    else:
        for _, report in reports:
            _print_report(report)
        if args.all:
            print(f"{len(reports)} session(s) checked, {len(unreadable)} unreadable")
    return 0 if ok else 1


def run_review_command(args: argparse.Namespace) -> int:
    """Run ``pos-workflow approve|reject|pending|verify-session``; return the exit code."""
    if args.command in ("approve", "reject"):
        return _with_engine(args, lambda engine: _decide(args, engine))
    if args.command == "pending":
        return _with_engine(args, lambda engine: _pending(args, engine))
    return _with_engine(args, lambda engine: _verify(args, engine))
