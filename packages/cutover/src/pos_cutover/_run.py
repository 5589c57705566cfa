"""The cutover steps and ``run``: check -> backup -> apply -> verify -> report.

:class:`Cutover` holds what every step needs (project, plan, how to start the
server, where progress goes) and offers each step on its own and ``run``, which
chains them, rolls back by itself when verification fails, recovers first from
an interrupted cutover, and is a no-op on a project already cut over. Every
step returns a :class:`CutoverResult` whose ``exit_code`` is one of
:class:`ExitCode`; nothing is raised for an expected failure.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from ._backup import (
    BACKUPS_DIR,
    CANARY,
    Backup,
    find_backup,
    new_backup_folder,
    read_registry,
    write_backup,
)
from ._canary import start_canary
from ._checks import CheckContext, CheckReport, CheckResult, registry_groups, run_checks
from ._files import json_bytes
from ._journal import (
    ApplyResult,
    Recovery,
    apply_registry,
    clear_journal,
    read_journal,
    recover,
    registry_sha256,
    restore_registry,
    set_journal_state,
)
from ._lock import CutoverLock
from ._migrate import MigrationContext, MigrationOutcome, run_migration_steps, undo_migration_steps
from ._plan import CutoverPlan, default_plan, parse_plan
from ._probe import remove_probe_sessions
from ._report import Report, build_report
from ._server import ServerLauncher, connect
from ._verify import Verification, load_verification, verify
from .exceptions import BackupError, CutoverBusyError, CutoverError, JournalError, ServerStartError

__all__ = [
    "CHECKS_FILE",
    "ROLLBACK_FILE",
    "Cutover",
    "CutoverResult",
    "Event",
    "ExitCode",
    "Progress",
]

logger = logging.getLogger("pos_cutover")

CHECKS_FILE = "checks.json"
ROLLBACK_FILE = "rollback.json"


class ExitCode(IntEnum):
    """Exit codes of ``pos-cutover`` (and :attr:`CutoverResult.exit_code`)."""

    OK = 0
    """Done, or nothing to do (already cut over)."""
    FAILED = 1
    """A pre-check, the backup or verification failed; the registry was not changed."""
    USAGE = 2
    """Bad arguments, an invalid plan or an unknown backup."""
    ROLLED_BACK = 3
    """Verification failed after apply; the registry was restored byte-identical to the backup."""
    ROLLBACK_FAILED = 4
    """Rollback failed, or the registry matches neither backup nor target: a human must look."""
    BUSY = 5
    """Another cutover (run, apply or rollback) holds the project's lock."""


EventKind = Literal["start", "ok", "warn", "fail", "info", "check"]


@dataclass(frozen=True)
class Event:
    """One progress event.

    Attributes:
        step: recover, check, backup, apply, verify, rollback or report.
        kind: start, ok, warn, fail, info, or check (one check result in ``check``).
        message: One line for humans.
        check: The check result, for ``kind == "check"``.
    """

    step: str
    kind: EventKind
    message: str
    check: CheckResult | None = None


Progress = Callable[[Event], None]


def _quiet(_event: Event) -> None:
    """Progress sink that drops every event."""


@dataclass
class CutoverResult:
    """What a step (or ``run``) did.

    Attributes:
        command: check, backup, apply, verify, rollback, report or run.
        outcome: A word for machines: ok, no_op, cut_over, check_failed,
            backup_failed, verify_failed, rolled_back, rollback_failed, busy, error.
        exit_code: The process exit code for this outcome.
        message: One sentence for humans.
    """

    command: str
    outcome: str
    exit_code: ExitCode
    message: str
    project: str = ""
    plan: str | None = None
    recovery: Recovery | None = None
    checks: CheckReport | None = None
    backup: Backup | None = None
    apply: ApplyResult | None = None
    migrations: list[MigrationOutcome] = field(default_factory=list)
    verification: Verification | None = None
    rollback: dict[str, Any] | None = None
    report: Report | None = None
    report_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict (the ``--json`` output)."""
        return {
            "command": self.command,
            "outcome": self.outcome,
            "exit_code": int(self.exit_code),
            "message": self.message,
            "project": self.project,
            "plan": self.plan,
            "recovery": self.recovery.to_dict() if self.recovery else None,
            "checks": self.checks.to_dict() if self.checks else None,
            "backup": self.backup.to_dict() if self.backup else None,
            "apply": self.apply.to_dict() if self.apply else None,
            "migrations": [m.to_dict() for m in self.migrations],
            "verification": self.verification.to_dict() if self.verification else None,
            "rollback": self.rollback,
            "report": {"markdown": self.report.markdown, "files": self.report_files}
            if self.report
            else None,
        }


def package_version() -> str:
    """Return the installed version of pos-cutover."""
    try:
        return version("pos-cutover")
    except PackageNotFoundError:  # pragma: no cover - only without installed metadata
        return "0.0.0"


def plan_of(backup: Backup) -> CutoverPlan:
    """Return the plan a backup was taken for."""
    return parse_plan(json.dumps(backup.plan), f"{backup.backup_id}/plan.json")


class Cutover:
    """The cutover of one project.

    Args:
        project: The project root.
        plan: The cutover plan (default: the plan shipped in the package).
        launcher: How to start the server (default: ``python -m pos_tool serve``).
        progress: Receives progress events (default: dropped).
        environment: Shown in the report ("production", "staging", ...).
        tester: Shown in the report (default: the OS user).
        spec_map: For legacy sessions of dynamic workflows: the spec folder a session
            named -> the folder to use instead (``--spec-map OLD=NEW``).
    """

    def __init__(
        self,
        project: str | Path,
        plan: CutoverPlan | None = None,
        *,
        launcher: ServerLauncher | None = None,
        progress: Progress | None = None,
        environment: str = "production",
        tester: str | None = None,
        spec_map: dict[str, str] | None = None,
    ) -> None:
        self.project = Path(project).resolve()
        self.spec_map = dict(spec_map or {})
        self.plan = plan or default_plan()
        self.launcher = launcher or ServerLauncher()
        self.progress = progress or _quiet
        self.environment = environment
        self.tester = tester

    # ----------------------------------------------------------------- helpers

    def _emit(
        self, step: str, kind: EventKind, message: str, check: CheckResult | None = None
    ) -> None:
        logger.debug("%s %s: %s", step, kind, message)
        self.progress(Event(step, kind, message, check))

    def _result(
        self, command: str, outcome: str, code: ExitCode, message: str, **parts: Any
    ) -> CutoverResult:
        return CutoverResult(
            command, outcome, code, message, str(self.project), self.plan.source, **parts
        )

    def _lock(self, command: str) -> CutoverLock:
        return CutoverLock(self.project, command)

    def already_cut_over(self) -> bool:
        """Whether the project's registry already names exactly the plan's target groups."""
        groups, _ = registry_groups(self.project)
        return groups is not None and set(groups) == set(self.plan.target_groups)

    # ------------------------------------------------------------------- check

    async def _checks(self, *, lock_held: bool) -> CheckReport:
        self._emit(
            "check", "start", f"pre-checks of {self.project.name} against plan {self.plan.name}"
        )
        run_id = "check-" + secrets.token_hex(4)
        ctx = CheckContext(
            self.project,
            self.plan,
            self.launcher,
            lock_held=lock_held,
            run_id=run_id,
            spec_map=self.spec_map,
        )
        report = await run_checks(ctx, lambda r: self._emit("check", "check", r.reason, r))
        counts = report.counts()
        summary = f"{counts['PASS']} passed, {counts['WARN']} warned, {counts['FAIL']} failed"
        self._emit("check", "ok" if report.ok else "fail", summary)
        return report

    async def check(self) -> CutoverResult:
        """Run every pre-check; change nothing."""
        report = await self._checks(lock_held=False)
        if report.ok:
            return self._result(
                "check", "ok", ExitCode.OK, "every pre-check passed or warned", checks=report
            )
        names = ", ".join(r.name for r in report.failed)
        return self._result(
            "check", "check_failed", ExitCode.FAILED, f"pre-checks failed: {names}", checks=report
        )

    # ------------------------------------------------------------------ backup

    async def _backup(self) -> Backup:
        self._emit(
            "backup", "start", "backing up the registry, the live tool list and the state manifest"
        )
        folder = new_backup_folder(self.project)
        async with connect(self.project, self.launcher) as server:
            wire = await server.list_tools_wire()
            backup = write_backup(self.project, folder, self.plan, wire)
            registry = "saved" if backup.registry_existed else "absent (recorded)"
            legacy = (
                f" ({backup.legacy_files} legacy, copied into the backup)"
                if backup.legacy_files
                else ""
            )
            self._emit(
                "backup",
                "ok",
                f"{backup.backup_id}: verified against its manifest ({len(backup.tools)} tools, "
                f"{backup.state_files} state files{legacy}, registry {registry})",
            )
            canary = await start_canary(server, backup.tools, self.plan.workflow_types)
        backup.write_output(CANARY, json_bytes(canary))
        if canary.get("session_id"):
            self._emit(
                "backup",
                "info",
                f"canary session {canary['session_id']} started through {canary['tool']}",
            )
        else:
            self._emit("backup", "warn", f"no canary session: {canary.get('reason')}")
        return backup

    async def backup(self) -> CutoverResult:
        """Take a verified backup (and start the canary session); change nothing else."""
        try:
            with self._lock("backup"):
                backup = await self._backup()
        except CutoverBusyError as exc:
            return self._busy("backup", exc)
        except (BackupError, ServerStartError) as exc:
            self._emit("backup", "fail", exc.message)
            return self._result("backup", "backup_failed", ExitCode.FAILED, exc.message)
        return self._result(
            "backup",
            "ok",
            ExitCode.OK,
            f"backup {backup.backup_id} taken and verified",
            backup=backup,
        )

    # ------------------------------------------------------------------- apply

    def _apply(self, backup: Backup) -> tuple[ApplyResult, list[MigrationOutcome]]:
        self._emit(
            "apply",
            "start",
            f"replacing the registry atomically (journal: backup {backup.backup_id})",
        )
        applied = apply_registry(self.project, backup)
        what = "replaced" if applied.changed else "already held the target"
        self._emit("apply", "ok", f"registry {what}: groups {list(plan_of(backup).target_groups)}")
        outcomes = run_migration_steps(
            MigrationContext(self.project, backup, plan_of(backup), self.spec_map)
        )
        for outcome in outcomes:
            self._emit("apply", "info", f"migration {outcome.name}: {outcome.message}")
        return applied, outcomes

    async def apply(self, backup_id: str | None = None) -> CutoverResult:
        """Apply the target registry of a backup (the newest by default); no verification."""
        try:
            with self._lock("apply"):
                recovery = self._recover()
                try:
                    backup = find_backup(self.project, backup_id)
                except BackupError as exc:
                    self._emit("apply", "fail", exc.message)
                    return self._result(
                        "apply", "error", ExitCode.USAGE, exc.message, recovery=recovery
                    )
                applied, outcomes = self._apply(backup)
        except CutoverBusyError as exc:
            return self._busy("apply", exc)
        except JournalError as exc:
            return self._needs_human("apply", exc)
        except CutoverError as exc:
            self._emit("apply", "fail", exc.message)
            return self._result("apply", "error", ExitCode.FAILED, exc.message)
        return self._result(
            "apply",
            "ok",
            ExitCode.OK,
            f"target registry of {backup.backup_id} in place; run verify next",
            recovery=recovery,
            backup=backup,
            apply=applied,
            migrations=outcomes,
        )

    # ------------------------------------------------------------------ verify

    async def _verify(self, backup: Backup) -> Verification:
        plan = plan_of(backup)
        self._emit(
            "verify",
            "start",
            "fresh server over stdio: tools, old names, 14 actions, workflows, sessions",
        )
        result = await verify(self.project, plan, backup, self.launcher, run_id=backup.backup_id)
        for warning in result.warnings:
            self._emit("verify", "warn", warning)
        if result.ok:
            done = sum(1 for w in result.workflows if w.ok)
            migrated = (
                f"; {len(result.migrated)} migrated legacy session(s) answer get_state, "
                "get_phase and get_task"
                if result.migrated
                else ""
            )
            self._emit(
                "verify",
                "ok",
                f"{len(result.tools)} tools (plan {plan.expected_after}); 14 actions ok; "
                f"{done} workflows completed{migrated}",
            )
        else:
            for problem in result.problems:
                self._emit("verify", "fail", problem)
        return result

    async def verify(self, backup_id: str | None = None) -> CutoverResult:
        """Verify the project against a backup's plan (the newest by default).

        The probe sessions verification creates are deleted again; the lock keeps
        a concurrent run from mistaking them for leftovers. A passing verification
        of the cutover the journal records settles it: the journal is removed, so
        that ``check`` passes and a later ``run`` finds the project cut over.
        """
        try:
            with self._lock("verify"):
                try:
                    backup = find_backup(self.project, backup_id)
                except BackupError as exc:
                    return self._result("verify", "error", ExitCode.USAGE, exc.message)
                result = await self._verify(backup)
                settled = result.ok and self._settle(backup)
        except CutoverBusyError as exc:
            return self._busy("verify", exc)
        if result.ok:
            return self._result(
                "verify",
                "ok",
                ExitCode.OK,
                "verification passed" + ("; the cutover is complete" if settled else ""),
                backup=backup,
                verification=result,
            )
        return self._result(
            "verify",
            "verify_failed",
            ExitCode.FAILED,
            "verification failed: " + "; ".join(result.problems[:3]),
            backup=backup,
            verification=result,
        )

    def _settle(self, backup: Backup) -> bool:
        """Close the journal of the cutover from ``backup`` once it is verified; return whether."""
        try:
            journal = read_journal(self.project)
        except JournalError:
            return False  # left for recovery, which says what is wrong with it
        if (
            journal is None
            or journal.backup_id != backup.backup_id
            or registry_sha256(self.project) != journal.target_sha256
        ):
            return False
        clear_journal(self.project)
        self._emit(
            "verify", "ok", f"the cutover from {backup.backup_id} is complete: journal closed"
        )
        return True

    # ---------------------------------------------------------------- rollback

    async def _rollback(self, backup: Backup) -> dict[str, Any]:
        self._emit("rollback", "start", f"restoring the registry of {backup.backup_id}")
        record: dict[str, Any] = {"backup_id": backup.backup_id, "ok": False}
        try:
            # Migrated sessions go first: a rollback killed after this leaves the target
            # registry without them, which a re-run migrates again (steps are idempotent);
            # the other order would leave them behind a restored registry, looking as if
            # they had always been there.
            undone = undo_migration_steps(MigrationContext(self.project, backup, plan_of(backup)))
            after = restore_registry(self.project, backup)
            for outcome in undone:
                self._emit(
                    "rollback", "info", f"migration {outcome.name} undone: {outcome.message}"
                )
            record["migrations_undone"] = [o.to_dict() for o in undone]
            record["removed_probe_sessions"] = remove_probe_sessions(self.project)
            data = read_registry(self.project)
            record["registry_sha256"] = after
            record["byte_identical"] = data == backup.registry_bytes()
            async with connect(self.project, self.launcher) as server:
                tools = await server.tool_names()
            record["tools"] = tools
            same = sorted(tools) == sorted(backup.tools)
            record["ok"] = bool(record["byte_identical"]) and same
            what = (
                "byte-identical to the backup"
                if backup.registry_existed
                else "removed, as before the cutover"
            )
            record["message"] = (
                f"registry {what}; the server lists the {len(tools)} tools of before"
                if same
                else f"registry {what}, but the server lists {tools} instead of {backup.tools}"
            )
        except CutoverError as exc:
            record["message"] = exc.message
        except OSError as exc:
            record["message"] = (
                f"cannot restore the registry ({exc.strerror or type(exc).__name__})"
            )
        backup.write_output(ROLLBACK_FILE, json_bytes(record))
        self._emit("rollback", "ok" if record["ok"] else "fail", str(record["message"]))
        return record

    async def rollback(self, backup_id: str | None = None) -> CutoverResult:
        """Restore the registry of a backup (the newest by default) and verify the old surface."""
        try:
            with self._lock("rollback"):
                backup = find_backup(self.project, backup_id)
                record = await self._rollback(backup)
        except CutoverBusyError as exc:
            return self._busy("rollback", exc)
        except BackupError as exc:
            return self._result("rollback", "error", ExitCode.USAGE, exc.message)
        if record["ok"]:
            return self._result(
                "rollback",
                "rolled_back",
                ExitCode.OK,
                str(record["message"]),
                backup=backup,
                rollback=record,
            )
        return self._result(
            "rollback",
            "rollback_failed",
            ExitCode.ROLLBACK_FAILED,
            str(record["message"]),
            backup=backup,
            rollback=record,
        )

    # ------------------------------------------------------------------ report

    def _report(
        self,
        backup: Backup,
        verification: Verification | None,
        checks: CheckReport | None = None,
        rollback: dict[str, Any] | None = None,
    ) -> tuple[Report, list[str]]:
        self._emit("report", "start", "validation report (seed Task 5.5)")
        report = build_report(
            backup,
            verification,
            checks=checks,
            rollback=rollback,
            environment=self.environment,
            tester=self.tester,
            version=package_version(),
        )
        files = report.write(backup)
        self._emit(
            "report", "ok", f"written to {BACKUPS_DIR}/{backup.path.name}/report.md and report.json"
        )
        return report, files

    def report(self, backup_id: str | None = None) -> CutoverResult:
        """Render the validation report of a backup's cutover (the newest by default)."""
        try:
            backup = find_backup(self.project, backup_id)
        except BackupError as exc:
            return self._result("report", "error", ExitCode.USAGE, exc.message)
        verification = load_verification(backup)
        checks = self._saved_checks(backup)
        rollback_path = backup.path / ROLLBACK_FILE
        rollback = (
            json.loads(rollback_path.read_text(encoding="utf-8"))
            if rollback_path.exists()
            else None
        )
        report, files = self._report(backup, verification, checks, rollback)
        return self._result(
            "report",
            "ok",
            ExitCode.OK,
            f"report of {backup.backup_id}",
            backup=backup,
            verification=verification,
            report=report,
            report_files=files,
            rollback=rollback,
        )

    @staticmethod
    def _saved_checks(backup: Backup) -> CheckReport | None:
        path = backup.path / CHECKS_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        from ._checks import Finding  # noqa: PLC0415 - only when re-reading saved checks

        return CheckReport(
            [
                CheckResult(
                    r["name"],
                    r["status"],
                    r["reason"],
                    r["remediation"],
                    [Finding(**f) for f in r["findings"]],
                    r["details"],
                )
                for r in data["results"]
            ]
        )

    # --------------------------------------------------------------------- run

    def _recover(self) -> Recovery:
        recovery = recover(self.project)
        if recovery.outcome != "none":
            self._emit("recover", "warn", recovery.message)
        return recovery

    async def _finish(
        self,
        backup: Backup,
        checks: CheckReport | None,
        recovery: Recovery | None,
        applied: ApplyResult | None,
        migrations: list[MigrationOutcome],
    ) -> CutoverResult:
        """Verify, then report (and roll back first when verification fails)."""
        parts: dict[str, Any] = {
            "recovery": recovery,
            "checks": checks,
            "backup": backup,
            "apply": applied,
        }
        parts["migrations"] = migrations
        verification = await self._verify(backup)
        parts["verification"] = verification
        if verification.ok:
            set_journal_state(self.project, "verified")
            report, files = self._report(backup, verification, checks)
            clear_journal(self.project)
            before, after = len(backup.tools), len(verification.tools)
            return self._result(
                "run",
                "cut_over",
                ExitCode.OK,
                f"cut over: {before} tools -> {after}; report in {backup.backup_id}",
                report=report,
                report_files=files,
                **parts,
            )
        record = await self._rollback(backup)
        report, files = self._report(backup, verification, checks, record)
        parts |= {"rollback": record, "report": report, "report_files": files}
        if record["ok"]:
            return self._result(
                "run",
                "rolled_back",
                ExitCode.ROLLED_BACK,
                f"verification failed; rolled back to {backup.backup_id}: {record['message']}",
                **parts,
            )
        return self._result(
            "run",
            "rollback_failed",
            ExitCode.ROLLBACK_FAILED,
            f"verification failed and the rollback failed: {record['message']}",
            **parts,
        )

    async def _resume(self, recovery: Recovery) -> CutoverResult | None:
        """Continue after a recovery; None when the run should start afresh."""
        if recovery.outcome != "completed" or recovery.backup_id is None:
            return None
        backup = find_backup(self.project, recovery.backup_id)
        verification = load_verification(backup)
        passed = (
            verification is not None
            and verification.ok
            and verification.finished_at >= (recovery.started_at or "")
        )
        if not recovery.needs_verification or passed:
            clear_journal(self.project)
            message = recovery.message
            if recovery.needs_verification and verification is not None:
                message = (
                    f"the cutover from {backup.backup_id} was already applied and verified "
                    f"(verification passed at {verification.finished_at}); nothing to redo"
                )
                self._emit("recover", "ok", message)
            return self._result(
                "run",
                "cut_over",
                ExitCode.OK,
                message,
                recovery=recovery,
                backup=backup,
                verification=verification,
            )
        ctx = MigrationContext(self.project, backup, plan_of(backup), self.spec_map)
        checks = self._saved_checks(backup)
        try:
            migrations = run_migration_steps(ctx)
        except CutoverError as exc:
            return await self._apply_failed(exc, backup, checks=checks, recovery=recovery)
        for outcome in migrations:
            self._emit("recover", "info", f"migration {outcome.name}: {outcome.message}")
        return await self._finish(backup, checks, recovery, None, migrations)

    async def _run_locked(self, *, skip_checks: bool) -> CutoverResult:
        recovery = self._recover()
        resumed = await self._resume(recovery)
        if resumed is not None:
            return resumed
        leftovers = remove_probe_sessions(self.project)
        if leftovers:
            self._emit(
                "recover",
                "info",
                f"removed {len(leftovers)} probe session(s) of an interrupted run",
            )
        if self.already_cut_over():
            _, where = registry_groups(self.project)
            message = f"already cut over: {where}, as the plan's target; nothing to do"
            self._emit("check", "ok", message)
            return self._result("run", "no_op", ExitCode.OK, message, recovery=recovery)
        checks = await self._checks(lock_held=True)
        if not checks.ok and not skip_checks:
            names = ", ".join(r.name for r in checks.failed)
            return self._result(
                "run",
                "check_failed",
                ExitCode.FAILED,
                f"pre-checks failed ({names}); nothing was changed",
                recovery=recovery,
                checks=checks,
            )
        if not checks.ok:
            self._emit(
                "check",
                "warn",
                "pre-checks failed but --skip-checks was given: going ahead (a drill)",
            )
        try:
            backup = await self._backup()
        except (BackupError, ServerStartError) as exc:
            self._emit("backup", "fail", exc.message)
            return self._result(
                "run",
                "backup_failed",
                ExitCode.FAILED,
                f"backup failed; nothing was changed: {exc.message}",
                recovery=recovery,
                checks=checks,
            )
        backup.write_output(CHECKS_FILE, json_bytes(checks.to_dict()))
        try:
            applied, migrations = self._apply(backup)
        except CutoverError as exc:
            return await self._apply_failed(exc, backup, checks=checks, recovery=recovery)
        return await self._finish(backup, checks, recovery, applied, migrations)

    async def _apply_failed(self, exc: CutoverError, backup: Backup, **parts: Any) -> CutoverResult:
        """Roll back after apply (or a migration step) failed."""
        self._emit("apply", "fail", exc.message)
        record = await self._rollback(backup)
        code = ExitCode.ROLLED_BACK if record["ok"] else ExitCode.ROLLBACK_FAILED
        return self._result(
            "run",
            "rolled_back" if record["ok"] else "rollback_failed",
            code,
            f"apply failed ({exc.message}); {record['message']}",
            backup=backup,
            rollback=record,
            **parts,
        )

    async def run(self, *, skip_checks: bool = False) -> CutoverResult:
        """check -> backup -> apply -> verify -> report, rolling back when verification fails.

        Args:
            skip_checks: Go ahead even when a pre-check fails (a rollback drill; never in production).
        """
        try:
            with self._lock("run"):
                return await self._run_locked(skip_checks=skip_checks)
        except CutoverBusyError as exc:
            return self._busy("run", exc)
        except (JournalError, BackupError) as exc:
            return self._needs_human("run", exc)

    # ------------------------------------------------------------------ errors

    def _busy(self, command: str, exc: CutoverBusyError) -> CutoverResult:
        self._emit(command, "fail", exc.message)
        return self._result(command, "busy", ExitCode.BUSY, f"{exc.message}. {exc.remediation}")

    def _needs_human(self, command: str, exc: CutoverError) -> CutoverResult:
        self._emit("recover", "fail", exc.message)
        return self._result(
            command,
            "rollback_failed",
            ExitCode.ROLLBACK_FAILED,
            f"{exc.message}. {exc.remediation}",
        )
