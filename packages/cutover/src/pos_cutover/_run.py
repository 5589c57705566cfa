"""The cutover commands and ``run``: check -> backup -> apply -> verify -> report.

:class:`Cutover` offers each step as a command (holding the project's lock,
recovering an interrupted cutover first where that matters) and ``run``, which
walks the step table (``pos_cutover._step_table``), rolls back by itself when
apply or verification fails, recovers first from an interrupted cutover, and is
a no-op on a project already cut over. Every
command returns a :class:`~pos_cutover.CutoverResult` whose ``exit_code`` is one
of :class:`~pos_cutover.ExitCode`; nothing is raised for an expected failure.
A folder without ``.praxis-os/`` is refused by every command (exit 2) before
anything is written.

The verdict: a cutover that moved and verified everything is approved (exit 0).
One that left legacy sessions behind, or that removed the praxis server and with
it tools agents had, is *partial*: the report names each session left behind
with its reason and each tool lost. ``run`` then exits with 6 unless every
shortfall was accepted (``accept_unmigrated``; the tool loss is accepted by
choosing ``remove_praxis_server``).
"""

from __future__ import annotations

import json
from typing import ClassVar

from pos_engine import PosError

from ._backup import find_backup
from ._journal import Recovery, clear_journal, recover
from ._lock import CutoverLock
from ._report import UNMIGRATED, unmigrated_reason
from ._result import CutoverResult, ExitCode, package_version
from ._step_table import STEPS, RunState, Step, resume_from, walk
from ._steps import CHECKS_FILE, ROLLBACK_FILE, CutoverSteps, told
from ._survey import Survey
from ._verify import load_verification
from .exceptions import (
    BackupError,
    CutoverBusyError,
    CutoverError,
    JournalError,
    ServerStartError,
    StoreError,
)

__all__ = ["CHECKS_FILE", "ROLLBACK_FILE", "Cutover", "package_version"]


class Cutover(CutoverSteps):
    """The cutover of one project: each step as a command, and ``run``.

    See :class:`~pos_cutover._steps.CutoverSteps` for the arguments.
    """

    steps: ClassVar[tuple[Step, ...]] = STEPS
    """What ``run`` walks, in order (see ``pos_cutover._step_table``)."""

    def _lock(self, command: str) -> CutoverLock:
        return CutoverLock(self.project, command)

    def already_cut_over(self) -> bool:
        """Whether nothing of the old surface is left (see ``pos_cutover._survey``)."""
        return not self.survey().pending()

    # ------------------------------------------------------------------ commands

    async def check(self) -> CutoverResult:
        """Run every pre-check; change nothing."""
        refused = self.not_a_project("check")
        if refused is not None:
            return refused
        report = await self._checks(lock_held=False)
        if report.ok:
            return self._result(
                "check", "ok", ExitCode.OK, "every pre-check passed or warned", checks=report
            )
        names = ", ".join(r.name for r in report.failed)
        return self._result(
            "check", "check_failed", ExitCode.FAILED, f"pre-checks failed: {names}", checks=report
        )

    async def backup(self) -> CutoverResult:
        """Take a verified backup (and start the canary session); change nothing else."""
        refused = self.not_a_project("backup")
        if refused is not None:
            return refused
        try:
            with self._lock("backup"):
                backup = await self._backup()
        except CutoverBusyError as exc:
            return self._busy("backup", exc)
        except (BackupError, ServerStartError, StoreError) as exc:
            self._emit("backup", "fail", exc.message)
            return self._result("backup", "backup_failed", ExitCode.FAILED, told(exc))
        return self._result(
            "backup",
            "ok",
            ExitCode.OK,
            f"backup {backup.backup_id} taken and verified",
            backup=backup,
        )

    async def apply(self, backup_id: str | None = None) -> CutoverResult:
        """Apply the target files of a backup (the newest by default); no verification."""
        refused = self.not_a_project("apply")
        if refused is not None:
            return refused
        try:
            with self._lock("apply"):
                recovery = self._recover()
                try:
                    backup = find_backup(self.project, backup_id)
                    self.check_store(backup)
                except (BackupError, StoreError) as exc:
                    self._emit("apply", "fail", exc.message)
                    return self._result(
                        "apply", "error", ExitCode.USAGE, told(exc), recovery=recovery
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
            f"target files of {backup.backup_id} in place; run verify next",
            recovery=recovery,
            backup=backup,
            apply=applied,
            migrations=outcomes,
        )

    async def verify(self, backup_id: str | None = None) -> CutoverResult:
        """Verify the project against a backup's plan (the newest by default).

        The probe sessions verification creates are deleted again; the lock keeps
        a concurrent run from mistaking them for leftovers. A passing verification
        of the cutover the journal records settles it: the journal is removed, so
        that ``check`` passes and a later ``run`` finds the project cut over.
        """
        refused = self.not_a_project("verify")
        if refused is not None:
            return refused
        try:
            with self._lock("verify"):
                try:
                    backup = find_backup(self.project, backup_id)
                    self.check_store(backup)
                except (BackupError, StoreError) as exc:
                    return self._result("verify", "error", ExitCode.USAGE, told(exc))
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

    async def rollback(self, backup_id: str | None = None) -> CutoverResult:
        """Restore every file of a backup (the newest by default) and verify the old surface."""
        refused = self.not_a_project("rollback")
        if refused is not None:
            return refused
        try:
            with self._lock("rollback"):
                backup = find_backup(self.project, backup_id)
                self.check_store(backup)
                record = await self._rollback(backup)
        except CutoverBusyError as exc:
            return self._busy("rollback", exc)
        except (BackupError, StoreError) as exc:
            return self._result("rollback", "error", ExitCode.USAGE, told(exc))
        ok = bool(record["ok"])
        return self._result(
            "rollback",
            "rolled_back" if ok else "rollback_failed",
            ExitCode.OK if ok else ExitCode.ROLLBACK_FAILED,
            str(record["message"]),
            backup=backup,
            rollback=record,
        )

    def report(self, backup_id: str | None = None) -> CutoverResult:
        """Render the validation report of a backup's cutover (the newest by default)."""
        refused = self.not_a_project("report")
        if refused is not None:
            return refused
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
            partial=list(report.data.get("partial", [])),
        )

    # ----------------------------------------------------------------------- run

    async def run(
        self, *, skip_checks: bool = False, accept_unmigrated: bool = False
    ) -> CutoverResult:
        """check -> backup -> apply -> verify -> report, rolling back when verification fails.

        The steps are :attr:`steps`, in order. A run first finishes (or rolls back) an
        interrupted cutover; one whose files are in place resumes at apply (which then
        only runs the migration steps again).

        Args:
            skip_checks: Go ahead even when a pre-check fails (a rollback drill; never in production).
            accept_unmigrated: Exit 0 although legacy sessions were left behind (the
                report still says partial and names them).
        """
        refused = self.not_a_project("run")
        if refused is not None:
            return refused
        try:
            with self._lock("run"):
                result = await self._run_locked(skip_checks=skip_checks)
        except CutoverBusyError as exc:
            return self._busy("run", exc)
        except StoreError as exc:
            self._emit("run", "fail", exc.message)
            return self._result("run", "error", ExitCode.FAILED, told(exc))
        except (JournalError, BackupError) as exc:
            return self._needs_human("run", exc)
        return self._verdict(result, accept_unmigrated=accept_unmigrated)

    def _verdict(self, result: CutoverResult, *, accept_unmigrated: bool) -> CutoverResult:
        """Turn a cut-over (or no-op) run whose verdict is partial into exit 6, unless accepted."""
        if result.outcome not in ("cut_over", "no_op") or not result.partial:
            return result
        unmigrated = any(p.startswith(UNMIGRATED) for p in result.partial)
        accepted = accept_unmigrated or not unmigrated
        what = "; ".join(result.partial)
        if accepted:
            result.message += f" (partial, accepted: {what})"
            result.outcome = "partial" if result.outcome == "cut_over" else result.outcome
            return result
        result.outcome = "partial"
        result.exit_code = ExitCode.PARTIAL
        result.message += (
            f"; partial: {what}. Fix what the report names and run again, or pass "
            "--accept-unmigrated to accept it"
        )
        return result

    def _recover(self) -> Recovery:
        recovery = recover(self.project)
        if recovery.outcome != "none":
            self._emit("recover", "warn", recovery.message)
        return recovery

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
            report, files = self._report(backup, verification, self._saved_checks(backup))
            return self._result(
                "run",
                "cut_over",
                ExitCode.OK,
                message,
                recovery=recovery,
                backup=backup,
                verification=verification,
                report=report,
                report_files=files,
                partial=list(report.data["partial"]),
            )
        self.check_store(backup)
        state = RunState(
            recovery=recovery, resumed=True, backup=backup, checks=self._saved_checks(backup)
        )
        return await walk(self, state, resume_from(self.steps))

    def _nothing_to_do(self, current: Survey, recovery: Recovery) -> CutoverResult:
        where = current.registry_where
        message = f"already cut over ({where}); nothing to do"
        self._emit("check", "ok", message)
        partial = [unmigrated_reason(r) for r in current.unmigratable]
        for line in partial:
            self._emit("check", "warn", line)
        return self._result(
            "run", "no_op", ExitCode.OK, message, recovery=recovery, partial=partial
        )

    async def _run_locked(self, *, skip_checks: bool) -> CutoverResult:
        recovery = self._recover()
        resumed = await self._resume(recovery)
        if resumed is not None:
            return resumed
        leftovers = self._sweep()
        if leftovers:
            self._emit(
                "recover",
                "info",
                f"removed {len(leftovers)} probe session(s) of an interrupted run",
            )
        current = self.survey()
        if not current.pending():
            return self._nothing_to_do(current, recovery)
        state = RunState(recovery=recovery, current=current, skip_checks=skip_checks)
        return await walk(self, state, self.steps)

    def _sweep(self) -> list[str]:
        """Remove the probe sessions an interrupted run of this project left in the store.

        A store that cannot be used is left for the ``session-store`` pre-check to report.
        """
        try:
            with self.store.existing(self.project) as store:
                return self.remove_probes(store) if store is not None else []
        except (StoreError, PosError) as exc:
            self._emit("recover", "warn", f"leftover probe sessions not looked for: {exc.message}")
            return []

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
