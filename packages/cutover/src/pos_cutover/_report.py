"""The validation report of a cutover, as markdown and JSON.

Sections: test execution, cutover (tools before and after), clients and the
praxis server (when the cutover rewrote project files), test results (all 14
actions by group), complete workflows, session continuity, legacy sessions (when
the project has any), performance metrics against ``specs/thresholds.json``, the production
metrics the project's servers recorded since the cutover began (when there are
any), issues found, what is left for you, recommendation. Both forms are written into
the backup folder (``report.md``, ``report.json``).

The recommendation is one of three verdicts: *approve* (everything moved and
verified), *partial* (verified, but legacy sessions were left behind or the
praxis server's other tools were given up; each named), *rollback* (verification
failed).
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_engine import PosError
from pos_tool import ACTIONS, metrics_summary

from ._backup import BACKUPS_DIR, LEGACY_STATE_DIR, Backup
from ._checks import CheckReport
from ._files import json_bytes
from ._legacy import LegacyMigration, LegacySessionFile, read_legacy_migration
from ._verify import Verification

__all__ = [
    "REPORT_JSON",
    "REPORT_MD",
    "UNMIGRATED",
    "Report",
    "build_report",
    "unmigrated_reason",
]

REPORT_MD = "report.md"
REPORT_JSON = "report.json"

UNMIGRATED = "legacy session "
"""How a partial reason about a session left behind starts (``run`` looks for it)."""

_GROUP_ORDER = ("discovery", "execution", "management", "recovery")
_MAX_LISTED = 25
_YES, _NO, _WARN = "✅", "❌", "⚠️"


def _mark(ok: bool) -> str:
    return _YES if ok else _NO


@dataclass
class Report:
    """A rendered validation report.

    Attributes:
        markdown: The report as markdown.
        data: The same facts as a JSON-able dict.
        approved: Whether the recommendation is to approve (everything moved and verified).
    """

    markdown: str
    data: dict[str, Any] = field(default_factory=dict)
    approved: bool = False

    def write(self, backup: Backup) -> list[str]:
        """Write ``report.md`` and ``report.json`` into the backup folder; return their paths."""
        md = backup.write_output(REPORT_MD, self.markdown.encode("utf-8"))
        js = backup.write_output(REPORT_JSON, json_bytes(self.data))
        return [str(md), str(js)]


def _tester() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        return "unknown"


def _group_lines(v: Verification) -> tuple[list[str], dict[str, bool]]:
    by_group: dict[str, list[bool]] = {g: [] for g in _GROUP_ORDER}
    tested = {a.action: a.ok and a.calls > 0 for a in v.actions}
    for name, spec in ACTIONS.items():
        by_group.setdefault(spec.group, []).append(tested.get(name, False))
    verdict = {g: bool(oks) and all(oks) for g, oks in by_group.items()}
    all_ok = len(tested) == len(ACTIONS) and all(tested.values())
    lines = [f"- [{'x' if all_ok else ' '}] All {len(ACTIONS)} actions tested {_mark(all_ok)}"]
    for group, oks in by_group.items():
        ok = verdict[group]
        lines.append(
            f"- [{'x' if ok else ' '}] {group.capitalize()} actions ({len(oks)}): {_mark(ok)}"
        )
    return lines, verdict


def _action_table(v: Verification) -> list[str]:
    lines = ["| group | action | result | calls | slowest |", "|---|---|---|---|---|"]
    for a in sorted(
        v.actions, key=lambda a: _GROUP_ORDER.index(a.group) if a.group in _GROUP_ORDER else 9
    ):
        note = f" {a.detail}" if a.detail else ""
        lines.append(
            f"| {a.group} | `{a.action}` | {_mark(a.ok)}{note} | {a.calls} | {a.ms:.1f} ms |"
        )
    return lines


def _workflow_lines(v: Verification) -> list[str]:
    done = sum(1 for w in v.workflows if w.ok)
    lines = [f"{done} of {len(v.workflows)} workflows completed through pos_workflow.", ""]
    if v.workflows:
        lines += [
            "| # | workflow | session | phases | calls | result |",
            "|---|---|---|---|---|---|",
        ]
        for i, w in enumerate(v.workflows, start=1):
            lines.append(
                f"| {i} | {w.workflow_type} | `{w.session_id}` | {w.phases_completed} | {w.calls} | {_mark(w.ok)} |"
            )
    return lines


def _continuity_lines(v: Verification) -> list[str]:
    lines = []
    c = v.continuity
    if c is not None:
        lines.append(
            f"- Session `{c.session_id}` ({c.workflow_type}), {c.detail}, continued to completion through "
            f"pos_workflow ({c.phases_completed} phase(s) completed after the cutover): {_mark(c.ok)}"
        )
    else:
        lines.append(f"- No pre-cutover session was continued {_WARN}")
    s = v.sessions
    if s:
        kept = s.get("found", 0) == s.get("expected", 0)
        lines.append(
            f"- Sessions of the backup still listed: {s.get('found')}/{s.get('expected')} {_mark(kept)}"
        )
    store = s.get("store") if s else None
    if isinstance(store, dict):
        lost = [*store["missing"], *store["unreadable"], *store["older"]]
        lines.append(
            f"- Sessions of the backup in the store: {len(store['unchanged'])} as they were, "
            f"{len(store['changed'])} moved on since, {len(lost)} missing, unreadable or older "
            f"{_mark(not lost)}"
        )
    return lines


def _legacy_lines(
    backup: Backup, ledger: LegacyMigration | None, v: Verification | None
) -> list[str]:
    """The legacy sessions section: what the migration did and how each session answered."""
    if ledger is None:
        if not backup.legacy_files:
            return []
        return [
            f"- Legacy files under {LEGACY_STATE_DIR}: {backup.legacy_files} "
            f"(copied into the backup); not migrated {_WARN}"
        ]
    migrated = [f for f in ledger.files if f.outcome == "migrated"]
    failed = [f for f in ledger.files if f.outcome == "not_migrated"]
    lines = [
        f"- Legacy session files under {LEGACY_STATE_DIR}: {len(ledger.files)} "
        "(each copied into the backup; the originals are left unchanged)",
        f"- Migrated into the session store with their ids: {len(migrated)}; already in the "
        f"store (not overwritten): {ledger.count('present')}; not migrated: {len(failed)}"
        + (f" {_WARN}" if failed else ""),
    ]
    checks = {c.session_id: c for c in (v.migrated if v else [])}
    if migrated:
        lines += [
            "",
            "| legacy file | session | workflow | status | phase | get_state | get_phase | get_task |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in migrated:
            c = checks.get(str(f.session_id))
            marks = (
                [_mark(c.get_state), _mark(c.get_phase), _mark(c.get_task)]
                if c is not None
                else ["-", "-", "-"]
            )
            lines.append(
                f"| `{f.source}` | `{f.session_id}` | {f.workflow_type} | {f.status} | "
                f"{f.phase} | {' | '.join(marks)} |"
            )
    notes = [f"- {_WARN} {f.message}" for f in failed]
    notes += [f"- {f.message}" for f in ledger.files if f.outcome == "present"]
    if ledger.rolled_back_at:
        kept = f"; kept in the backup: {', '.join(ledger.kept)}" if ledger.kept else ""
        notes.append(
            f"- Removed again by the rollback of {ledger.rolled_back_at}: "
            f"{len(ledger.removed)} session(s){kept}"
        )
    return lines + ([""] if migrated and notes else []) + notes


def _client_lines(backup: Backup, v: Verification | None) -> list[str]:
    """The project files the cutover rewrote, how each new client entry answered, the praxis server."""
    changes = backup.changes()
    praxis = backup.praxis()
    if not changes and not praxis.get("found"):
        return []
    lines = []
    if praxis.get("found"):
        kept, lost = praxis.get("kept", []), praxis.get("lost_tools", [])
        if praxis.get("mode") == "keep" and kept:
            lines.append(
                f"- praxis server: kept for {kept} (workflow group removed); agents keep its other tools"
            )
        elif lost:
            lines.append(
                f"- praxis server: removed from the clients; tools lost: {', '.join(lost)} {_WARN}"
            )
        else:
            lines.append("- praxis server: no longer launched (it had no group besides workflow)")
    for change in changes:
        lines.append(f"- `{change.path}`: {'; '.join(change.summary)}")
    checks = v.clients if v else []
    if checks:
        lines += ["", "| file | entry | transport | starts pos-workflow |", "|---|---|---|---|"]
        for c in checks:
            mark = (
                _WARN + " " + c.detail
                if c.skipped
                else _mark(c.ok) + (f" {c.detail}" if c.detail else "")
            )
            lines.append(f"| `{c.file}` | {c.name} | {c.transport} | {mark} |")
    return lines


def unmigrated_reason(record: LegacySessionFile) -> str:
    """The partial reason for a legacy session file left behind: its name and why."""
    why = record.message.removeprefix(f"{record.source}: ").removeprefix("cannot be migrated: ")
    return f"{UNMIGRATED}{record.source} not migrated: {why}"


def _partial(backup: Backup, ledger: LegacyMigration | None) -> list[str]:
    """Why the verdict is partial: each legacy session left behind, the tools given up."""
    reasons = []
    if ledger is not None:
        reasons += [unmigrated_reason(f) for f in ledger.files if f.outcome == "not_migrated"]
    elif backup.legacy_files:
        reasons.append(
            f"{UNMIGRATED}files under {LEGACY_STATE_DIR} not migrated (no migration ran)"
        )
    lost = backup.praxis().get("lost_tools", [])
    if lost:
        reasons.append(f"tools lost with the praxis server: {', '.join(lost)}")
    return reasons


def _todo(backup: Backup, v: Verification | None, checks: CheckReport | None) -> list[str]:
    """What is left for the release engineer after a cutover that passed."""
    todo = []
    if backup.changes() or backup.praxis().get("found"):
        todo.append(
            "- Restart (or reload the MCP servers of) every IDE and agent on this project: "
            "a running client keeps the tools it listed at start-up."
        )
    for c in v.clients if v else []:
        if c.skipped:
            todo.append(f"- `{c.file}` {c.name}: {c.detail}")
    for entry in backup.praxis().get("user_entries", []):
        todo.append(
            f"- `{entry['file']}` {entry['name']} {entry['reason']}: add a pos-workflow entry "
            "there by hand (the cutover changes nothing outside the project)"
        )
    if checks is not None:
        for r in checks.results:
            if (
                r.name == "agent-instructions"
                and r.status != "PASS"
                and not backup.options().rewrite_instructions
            ):
                todo.append(
                    f"- Agent instructions: {r.reason}; rewrite them (`--rewrite-instructions`, "
                    "or by hand with the migration guide's table)"
                )
    for change in backup.changes():
        todo += [
            f"- `{change.path}` {s}" for s in change.summary if s.startswith("left for a human")
        ]
    return todo


def _latency_lines(v: Verification) -> list[str]:
    lines = []
    for lat in v.latencies:
        if not lat.samples_ms:
            lines.append(f"- {lat.action}: not measured (target: < {lat.target_ms:.0f}ms) {_NO}")
            continue
        lines.append(
            f"- {lat.action}: {lat.p95_ms:.1f}ms p95 over {len(lat.samples_ms)} calls "
            f"(target: < {lat.target_ms:.0f}ms) {_mark(lat.ok)}"
        )
    return lines


def _production_metrics(backup: Backup) -> tuple[list[str], dict[str, Any] | None]:
    """The project's recorded metrics since the cutover began (verification's calls included)."""
    project = backup.path.parents[len(Path(BACKUPS_DIR).parts)]
    try:
        since = datetime.fromisoformat(backup.created_at).timestamp()
        summary = metrics_summary(project, since=since)
    except (ValueError, PosError, sqlite3.Error) as exc:
        return [f"- not available: {getattr(exc, 'message', exc)}"], None
    if summary is None or not summary["actions"]:
        return ["- none recorded since the cutover began"], summary
    total = summary["total"]
    lines = [
        f"Recorded by the project's servers in `{summary['metrics_file']}` in whole minutes "
        f"from {summary['since']} (the cutover began at {backup.created_at}) to "
        f"{summary['until']}, verification's own calls included (`pos-workflow stats` shows "
        "more):",
        "",
        "| action | calls | errors | p95 ms |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{a['label']}` | {a['calls']} | {a['errors']} | {a['p95_ms']:.2f} |"
        for a in summary["actions"]
    ]
    lines += [
        f"| all | {total['calls']} | {total['errors']} | {total['p95_ms']:.2f} |",
        "",
        f"- Error rate: {total['error_rate_percent']:.2f}%; checkpoints: "
        f"{summary['checkpoints']['passed']} passed, {summary['checkpoints']['failed']} failed",
    ]
    alerts = summary["alerts"]["history"]
    lines.append(
        "- Alerts: "
        + (
            "; ".join(f"{a['alert']} at {a['fired_at']} ({a['summary']})" for a in alerts)
            if alerts
            else f"none {_YES}"
        )
    )
    return lines, summary


def _issues(
    v: Verification | None,
    checks: CheckReport | None,
    rollback: dict[str, Any] | None,
    ledger: LegacyMigration | None = None,
) -> list[str]:
    issues = []
    if v is not None:
        issues += [f"- {_NO} {p}" for p in v.problems]
        issues += [f"- {_WARN} {w}" for w in v.warnings]
    if ledger is not None and ledger.count("not_migrated"):
        issues.append(
            f"- {_WARN} {ledger.count('not_migrated')} legacy session file(s) not migrated "
            "(see Legacy sessions; the files are unchanged)"
        )
    if checks is not None:
        for r in checks.results:
            if r.status == "PASS":
                continue
            issues.append(
                f"- {_WARN if r.status == 'WARN' else _NO} pre-check {r.name}: {r.reason}"
            )
            shown = r.findings[:_MAX_LISTED]
            for f in shown:
                where = f"`{f.location}` " if f.location else ""
                instead = f" -> `{f.replacement}`" if f.replacement else ""
                issues.append(f"  - {where}{f.message}{instead}")
            if len(r.findings) > len(shown):
                issues.append(
                    f"  - ... and {len(r.findings) - len(shown)} more (report.json lists all)"
                )
    if rollback is not None and not rollback.get("ok", False):
        issues.append(f"- {_NO} rollback: {rollback.get('message', 'failed')}")
    return issues


def _cutover_lines(backup: Backup, v: Verification | None) -> list[str]:
    """The tools before and after, and whether the old names answer "Unknown tool"."""
    plan = backup.plan
    lines = [
        "",
        "## Cutover",
        f"- Tools before: {len(backup.tools)} (plan: {plan['expected_tools']['before']}): "
        f"{', '.join(backup.tools)}",
    ]
    praxis = backup.praxis()
    if praxis.get("found") and not backup.registry_existed:
        lines[-1] = (
            f"- Tools before: the praxis server's (groups {praxis.get('groups')}); pos-workflow "
            f"without a registry file listed {len(backup.tools)}: {', '.join(backup.tools)}"
        )
    if v is not None:
        lines.append(
            f"- Tools after: {len(v.tools)} (plan: {v.expected_tools}): {', '.join(v.tools) or '-'}"
        )
        answered = sum(1 for a in v.unknown_tool_answers.values() if "unknown tool" in a.lower())
        if v.unknown_tool_answers:
            lines.append(
                f'- Old tools answering "Unknown tool": {answered}/{len(v.unknown_tool_answers)} '
                f"{_mark(answered == len(v.unknown_tool_answers))}"
            )
    return lines


def _metrics_section(
    lines: list[str], backup: Backup, v: Verification | None
) -> dict[str, Any] | None:
    """Append the measured latencies and the production metrics; return the latter's data."""
    if v is not None:
        lines += ["", "## Performance Metrics", *(_latency_lines(v) or ["- not measured"])]
    production, production_data = _production_metrics(backup)
    lines += ["", "### Production metrics since the cutover", *production]
    return production_data


def build_report(
    backup: Backup,
    verification: Verification | None,
    *,
    checks: CheckReport | None = None,
    rollback: dict[str, Any] | None = None,
    environment: str = "production",
    tester: str | None = None,
    version: str = "",
) -> Report:
    """Render the validation report of a cutover.

    Args:
        backup: The cutover's backup (plan, tools before).
        verification: What verification found (None when it never ran).
        checks: The pre-check results, if this run made them.
        rollback: The rollback record, when the cutover was rolled back.
        environment: Shown under "Test Execution".
        tester: Who ran it (default: the OS user).
        version: The pos-cutover version.
    """
    v = verification
    plan = backup.plan
    groups = plan["groups"]
    tester = tester or _tester()
    ledger = read_legacy_migration(backup)
    passed = v is not None and v.ok and rollback is None
    partial = _partial(backup, ledger) if passed else []
    approved = passed and not partial
    date = (v.finished_at if v else backup.created_at)[:10]
    lines = [
        "# pos_workflow Production Validation Report",
        "",
        "## Test Execution",
        f"- Date: {date}",
        f"- Environment: {environment} (project `{backup.project_name}`)",
        f"- Tester: {tester} (pos-cutover {version})".rstrip(),
        f"- Plan: {plan.get('name')} (remove {groups['remove']}, add {groups['add']}, keep {groups['keep']})",
        f"- Backup: `{backup.backup_id}`",
        f"- Session store: {backup.store_where} ({backup.sessions} session(s) at the backup)",
    ]
    lines += _cutover_lines(backup, v)
    clients = _client_lines(backup, v)
    if clients:
        lines += ["", "### Clients and the praxis server", *clients]
    group_verdict: dict[str, bool] = {}
    lines += ["", "## Test Results"]
    if v is not None and v.actions:
        group_lines, group_verdict = _group_lines(v)
        lines += [*group_lines, "", *_action_table(v)]
    else:
        lines.append(
            f"- [ ] All {len(ACTIONS)} actions tested {_NO} (not run: {v.server_error if v else 'no verification'})"
        )
    if v is not None:
        lines += [
            "",
            "### Complete workflows",
            *_workflow_lines(v),
            "",
            "### Session continuity",
            *_continuity_lines(v),
        ]
    legacy = _legacy_lines(backup, ledger, v)
    if legacy:
        lines += ["", "### Legacy sessions", *legacy]
    production_data = _metrics_section(lines, backup, v)
    issues = _issues(v, checks, rollback, ledger)
    lines += ["", "## Issues Found", *(issues or ["- None"])]
    todo = _todo(backup, v, checks) if passed else []
    if todo:
        lines += ["", "## Left for you", *todo]
    lines += ["", "## Recommendation"]
    if approved:
        lines.append(f"{_YES} Approve for production use")
    elif passed:
        lines.append(
            f"{_WARN} Partial: cut over and verified, but not everything moved ({len(partial)}):"
        )
        lines += [f"- {reason}" for reason in partial]
    else:
        why = (
            "; ".join(v.problems[:3])
            if v is not None and v.problems
            else "verification did not pass"
        )
        lines.append(f"{_NO} Rollback required: {why}")
        if rollback is not None:
            state = "done" if rollback.get("ok") else "FAILED"
            lines.append(f"Rollback {state}: {rollback.get('message', '')}")
    markdown = "\n".join(lines) + "\n"
    data = {
        "title": "pos_workflow Production Validation Report",
        "date": date,
        "environment": environment,
        "tester": tester,
        "version": version,
        "backup": backup.to_dict(),
        "plan": plan,
        "tools_before": backup.tools,
        "tools_after": v.tools if v else None,
        "groups": group_verdict,
        "verification": v.to_dict() if v else None,
        "checks": checks.to_dict() if checks else None,
        "rollback": rollback,
        "legacy_sessions": ledger.to_dict() if ledger else None,
        "production_metrics": production_data,
        "issues": issues,
        "clients": [c.to_dict() for c in v.clients] if v else [],
        "project_files": [c.record() for c in backup.changes()],
        "praxis": backup.praxis(),
        "left_for_you": todo,
        "partial": partial,
        "recommendation": "approve" if approved else "partial" if passed else "rollback",
    }
    json.dumps(data)  # fail here, not half-way through writing, if something is not JSON-able
    return Report(markdown, data, approved)
