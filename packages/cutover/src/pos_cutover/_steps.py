"""The bodies of the cutover steps, shared by the commands and by ``run`` (see ``_run``).

:class:`CutoverSteps` holds what every step needs (project, plan, options, how
to start the server, where progress goes) and does one step each: checks,
backup, apply, verify, rollback, report. It takes no lock and catches nothing
but what a step reports as its result: :class:`~pos_cutover.Cutover` wraps
these into commands (lock, recovery, exit codes) and chains them in ``run``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

from pos_engine import PosError, SessionStore
from pos_tool import VALID_ACTIONS

from ._backup import (
    BACKUPS_DIR,
    CANARY,
    Backup,
    list_backups,
    new_backup_folder,
    read_registry,
    write_backup,
)
from ._canary import start_canary
from ._changes import ChangeOptions
from ._checks import CheckContext, CheckReport, CheckResult, Finding, run_checks
from ._files import json_bytes, sha256_bytes, sha256_file
from ._journal import (
    ApplyResult,
    apply_changes,
    clear_journal,
    read_journal,
    restore_changes,
    targets_in_place,
)
from ._migrate import MigrationContext, MigrationOutcome, run_migration_steps, undo_migration_steps
from ._plan import CutoverPlan, default_plan, parse_plan
from ._probe import remove_probe_sessions
from ._probe_work import remove_probe_files
from ._report import Report, build_report
from ._result import (
    CutoverResult,
    Event,
    EventKind,
    ExitCode,
    Outcome,
    Progress,
    package_version,
    quiet,
)
from ._server import ServerLauncher, connect
from ._store import StoreSetting
from ._survey import Survey, survey
from ._verify import Verification, verify
from .exceptions import CutoverError, JournalError, StoreError

__all__ = ["CHECKS_FILE", "PROJECT_MARKER", "ROLLBACK_FILE", "CutoverSteps", "plan_of", "told"]

logger = logging.getLogger("pos_cutover")

CHECKS_FILE = "checks.json"
ROLLBACK_FILE = "rollback.json"
PROJECT_MARKER = ".praxis-os"
"""The folder that makes a folder a project; without it every command refuses (exit 2)."""


def told(exc: CutoverError) -> str:
    """An error for a result message; a store's also says what to do (it names the setting)."""
    return f"{exc.message}. {exc.remediation}" if isinstance(exc, StoreError) else exc.message


def plan_of(backup: Backup) -> CutoverPlan:
    """Return the plan a backup was taken for."""
    return parse_plan(json.dumps(backup.plan), f"{backup.backup_id}/plan.json")


class CutoverSteps:
    """The steps of the cutover of one project.

    Args:
        project: The project root.
        plan: The cutover plan (default: the plan shipped in the package).
        launcher: How to start the server (default: ``python -m pos_tool serve``).
        progress: Receives progress events (default: dropped).
        environment: Shown in the report ("production", "staging", ...).
        tester: Shown in the report (default: the OS user).
        options: How the praxis server, its clients and the agent instructions are
            treated (default: keep the praxis server, leave instructions as they are).
        store: Where the project's sessions live (default: the project's file store).
            The cutover reaches them through the store API, and every server it starts
            on the project uses the same store.
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
        options: ChangeOptions | None = None,
        store: StoreSetting | None = None,
    ) -> None:
        self.project = Path(project).resolve()
        self.plan = plan or default_plan()
        self.launcher = launcher or ServerLauncher()
        self.progress = progress or quiet
        self.environment = environment
        self.tester = tester
        self.options = options or ChangeOptions()
        self.store = store or StoreSetting()

    # ----------------------------------------------------------------- helpers

    def _emit(
        self, step: str, kind: EventKind, message: str, check: CheckResult | None = None
    ) -> None:
        logger.debug("%s %s: %s", step, kind, message)
        self.progress(Event(step, kind, message, check))

    def _result(
        self, command: str, outcome: Outcome, code: ExitCode, message: str, **parts: Any
    ) -> CutoverResult:
        return CutoverResult(
            command, outcome, code, message, str(self.project), self.plan.source, **parts
        )

    def not_a_project(self, command: str) -> CutoverResult | None:
        """The refusal of a folder that holds no ``.praxis-os/`` (None: it is a project)."""
        if (self.project / PROJECT_MARKER).is_dir():
            return None
        message = (
            f"no {PROJECT_MARKER}/ in {str(self.project)!r}: not a praxis-os project; "
            f"pass --project PATH (the folder that holds {PROJECT_MARKER}/)"
        )
        return self._result(command, "not_a_project", ExitCode.USAGE, message)

    def migration_context(self, backup: Backup) -> MigrationContext:
        """What the migration steps need for ``backup`` (with the ``--spec-map`` pairs)."""
        return MigrationContext(
            self.project, backup, plan_of(backup), dict(self.options.spec_map), self.store
        )

    def survey(self) -> Survey:
        """What is still on the old surface and what the cutover would change (see ``_survey``)."""
        return survey(self.project, self.plan, self.options, self.store)

    @property
    def project_launcher(self) -> ServerLauncher:
        """How servers on the project itself start: on the cutover's session store.

        The store URL goes into the server's environment, not its command line: it may
        hold a password.
        """
        env = self.store.server_env()
        return replace(self.launcher, env={**self.launcher.env, **env}) if env else self.launcher

    def check_store(self, backup: Backup) -> None:
        """Refuse to work with ``backup`` on a store other than the one it was taken on.

        Raises:
            StoreError: The backup was taken on another store.
        """
        if backup.store_setting == self.store.identity:
            return
        taken = backup.store_setting or "the project's file store"
        raise StoreError(
            f"backup {backup.backup_id} was taken on {taken} ({backup.store_where}), but this "
            f"command is set to use {self.store.shown()}: its sessions would be looked for in "
            "the wrong place",
            remediation=(
                f"Pass --store {taken} (with its password), or set POS_WORKFLOW_STORE to it."
                if backup.store_setting
                else "Run the command without --store, with POS_WORKFLOW_STORE unset."
            ),
        )

    def remove_probes(self, store: SessionStore) -> list[str]:
        """Delete the probe sessions this project's cutovers left in ``store`` (see ``_probe``).

        The scratch folders a killed verification left in the project go too, whatever
        the store (files in the project or elsewhere, PostgreSQL).
        """
        remove_probe_files(self.project)
        runs = [folder.name for folder in list_backups(self.project)]
        canaries = []
        for folder in list_backups(self.project):
            path = folder / CANARY
            if path.is_file():
                with contextlib.suppress(ValueError, OSError):
                    canaries.append(
                        str(json.loads(path.read_text(encoding="utf-8")).get("session_id"))
                    )
        return remove_probe_sessions(store, runs, canaries)

    # ------------------------------------------------------------------ checks

    async def _checks(self, *, lock_held: bool, current: Survey | None = None) -> CheckReport:
        self._emit("check", "start", f"pre-checks of project {self.project.name}")
        run_id = "check-" + secrets.token_hex(4)
        ctx = CheckContext(
            self.project,
            self.plan,
            self.launcher,
            lock_held=lock_held,
            run_id=run_id,
            options=self.options,
            spec_map=dict(self.options.spec_map),
            store=self.store,
        )
        if current is not None:
            ctx.cache["survey"] = current
        report = await run_checks(ctx, lambda r: self._emit("check", "check", r.reason, r))
        counts = report.counts()
        summary = f"{counts['PASS']} passed, {counts['WARN']} warned, {counts['FAIL']} failed"
        self._emit("check", "ok" if report.ok else "fail", summary)
        return report

    @staticmethod
    def _saved_checks(backup: Backup) -> CheckReport | None:
        path = backup.path / CHECKS_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
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

    # ------------------------------------------------------------------ backup

    async def _backup(self, current: Survey | None = None) -> Backup:
        current = current or self.survey()
        changes = current.changes
        files = f", {len(changes)} project file(s) to rewrite" if changes else ""
        self._emit(
            "backup",
            "start",
            f"backing up the registry{files}, the live tool list and the session state",
        )
        folder = new_backup_folder(self.project)
        async with connect(self.project, self.project_launcher) as server:
            wire = await server.list_tools_wire()
            backup = write_backup(
                self.project,
                folder,
                self.plan,
                wire,
                store=self.store,
                changes=changes,
                options=self.options,
                praxis=current.praxis_record(),
            )
            registry = "saved" if backup.registry_existed else "absent (recorded)"
            legacy = (
                f", {backup.legacy_files} legacy session file(s) copied"
                if backup.legacy_files
                else ""
            )
            saved = f", {len(changes)} project file(s) before and after" if changes else ""
            self._emit(
                "backup",
                "ok",
                f"{backup.backup_id}: verified against its manifest ({len(backup.tools)} tools, "
                f"{backup.sessions} session(s) of {backup.store_where} recorded{legacy}, "
                f"registry {registry}{saved})",
            )
            canary = await start_canary(
                server, backup.tools, self.plan.workflow_types, run_id=backup.backup_id
            )
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

    # ------------------------------------------------------------------- apply

    def _apply(self, backup: Backup) -> tuple[ApplyResult, list[MigrationOutcome]]:
        changes = backup.changes()
        what = "the registry" + (f" and {len(changes)} project file(s)" if changes else "")
        self._emit(
            "apply", "start", f"replacing {what} atomically (journal: backup {backup.backup_id})"
        )
        applied = apply_changes(self.project, backup)
        state = "replaced" if applied.changed else "already held the target"
        self._emit("apply", "ok", f"registry {state}: groups {list(plan_of(backup).target_groups)}")
        for change in changes:
            self._emit("apply", "ok", f"{change.path}: {'; '.join(change.summary)}")
        outcomes = run_migration_steps(self.migration_context(backup))
        for outcome in outcomes:
            self._emit("apply", "info", f"migration {outcome.name}: {outcome.message}")
        return applied, outcomes

    # ------------------------------------------------------------------ verify

    async def _verify(self, backup: Backup) -> Verification:
        plan = plan_of(backup)
        self._emit(
            "verify",
            "start",
            f"fresh server over stdio: tools, old names, {len(VALID_ACTIONS)} actions, "
            "workflows, sessions, clients",
        )
        result = await verify(
            self.project,
            plan,
            backup,
            self.project_launcher,
            run_id=backup.backup_id,
            store=self.store,
        )
        for warning in result.warnings:
            self._emit("verify", "warn", warning)
        if not result.ok:
            for problem in result.problems:
                self._emit("verify", "fail", problem)
            return result
        done = sum(1 for w in result.workflows if w.ok)
        migrated = (
            f"; {len(result.migrated)} migrated legacy session(s) answer get_state, "
            "get_phase and get_task"
            if result.migrated
            else ""
        )
        clients = sum(1 for c in result.clients if c.ok)
        launched = f"; {clients} client entr(y/ies) start pos-workflow" if clients else ""
        self._emit(
            "verify",
            "ok",
            f"{len(result.tools)} tools (plan {plan.expected_after}); {len(VALID_ACTIONS)} actions answered; "
            f"{done} workflows completed{migrated}{launched}",
        )
        return result

    def _settle(self, backup: Backup) -> bool:
        """Close the journal of the cutover from ``backup`` once it is verified; return whether."""
        try:
            journal = read_journal(self.project)
        except JournalError:
            return False  # left for recovery, which says what is wrong with it
        if (
            journal is None
            or journal.backup_id != backup.backup_id
            or not targets_in_place(self.project, journal)
        ):
            return False
        clear_journal(self.project)
        self._emit(
            "verify", "ok", f"the cutover from {backup.backup_id} is complete: journal closed"
        )
        return True

    # ---------------------------------------------------------------- rollback

    async def _rollback(self, backup: Backup) -> dict[str, Any]:
        changes = backup.changes()
        what = "the registry" + (f" and {len(changes)} project file(s)" if changes else "")
        self._emit("rollback", "start", f"restoring {what} of {backup.backup_id}")
        record: dict[str, Any] = {"backup_id": backup.backup_id, "ok": False}
        try:
            self.check_store(backup)
            # Migrated sessions go first: a rollback killed after this leaves the target
            # files without them, which a re-run migrates again (steps are idempotent);
            # the other order would leave them behind restored files, looking as if
            # they had always been there.
            undone = undo_migration_steps(self.migration_context(backup))
            after = restore_changes(self.project, backup)
            for outcome in undone:
                self._emit(
                    "rollback", "info", f"migration {outcome.name} undone: {outcome.message}"
                )
            record["migrations_undone"] = [o.to_dict() for o in undone]
            record |= self._sessions_after_rollback(backup)
            record["registry_sha256"] = after
            record["files"] = [
                {"path": c.path, "byte_identical": _holds(self.project / c.path, c.before)}
                for c in changes
            ]
            record["byte_identical"] = read_registry(
                self.project
            ) == backup.registry_bytes() and all(f["byte_identical"] for f in record["files"])
            async with connect(self.project, self.project_launcher) as server:
                tools = await server.tool_names()
            record["tools"] = tools
            same = sorted(tools) == sorted(backup.tools)
            record["ok"] = bool(record["byte_identical"]) and same
            what = (
                "byte-identical to the backup"
                if backup.registry_existed
                else "removed, as before the cutover"
            )
            files = f"; {len(changes)} project file(s) byte-identical" if changes else ""
            record["message"] = (
                f"registry {what}{files}; the server lists the {len(tools)} tools of before"
                if same
                else f"registry {what}, but the server lists {tools} instead of {backup.tools}"
            )
        except CutoverError as exc:
            record["message"] = exc.message
        except OSError as exc:
            record["message"] = f"cannot restore the files ({exc.strerror or type(exc).__name__})"
        backup.write_output(ROLLBACK_FILE, json_bytes(record))
        self._emit("rollback", "ok" if record["ok"] else "fail", str(record["message"]))
        return record

    def _sessions_after_rollback(self, backup: Backup) -> dict[str, Any]:
        """Remove leftover probe sessions; compare the store with the backup's inventory.

        Raises:
            StoreError: The store cannot be read.
        """
        try:
            with self.store.existing(self.project) as store:
                if store is None:
                    return {"removed_probe_sessions": [], "sessions": None}
                removed = self.remove_probes(store)
                compared = backup.inventory().compare(store)
        except PosError as exc:
            raise StoreError(
                f"cannot read the session store after the rollback: {exc.message}",
                remediation=exc.remediation,
            ) from None
        self._emit("rollback", "info", f"session store: {compared.summary()}")
        return {"removed_probe_sessions": removed, "sessions": compared.to_dict()}

    # ------------------------------------------------------------------ report

    def _report(
        self,
        backup: Backup,
        verification: Verification | None,
        checks: CheckReport | None = None,
        rollback: dict[str, Any] | None = None,
    ) -> tuple[Report, list[str]]:
        self._emit("report", "start", f"validation report of project {self.project.name}")
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


def _holds(path: Path, expected: bytes | None) -> bool:
    """Whether ``path`` holds exactly ``expected`` (None: the file does not exist)."""
    if expected is None:
        return not path.exists()
    return path.is_file() and sha256_file(path) == sha256_bytes(expected)
