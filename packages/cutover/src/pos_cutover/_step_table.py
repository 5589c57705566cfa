"""The steps of the cutover in one table: names, order, help, what runs each, what undoes it.

:data:`STEPS` is the one place the steps of ``run`` are listed, in their order:
``Cutover.run`` walks it (:func:`walk`), the CLI makes a subcommand of each step
and of each undo, numbers run's progress by it and derives run's help and options
from it. A :class:`Step` holds two callables: ``command`` is the step on its own
(``pos-cutover apply``: the lock, recovery, a result of its own), ``run`` is the
step inside ``run``: it works on the :class:`RunState` the steps before it filled
in, and returns a result only to end the run early. ``undo`` is the step that
takes back what the step changes: apply's is the rollback; the steps that change
nothing of the project have none. When a step of a run fails after one that
changes the project started, :func:`undo` runs the undos of every step started,
newest first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ._exit import ExitCode
from .exceptions import BackupError, CutoverError, ServerStartError, StoreError

# The CLI builds its parser from this table, and `pos-cutover --help` must not import the
# MCP SDK (most of a cold start): the modules that do are imported where a step runs.
if TYPE_CHECKING:
    from ._backup import Backup
    from ._checks import CheckReport
    from ._journal import ApplyResult, Recovery
    from ._migrate import MigrationOutcome
    from ._report import Report
    from ._result import CutoverResult
    from ._run import Cutover
    from ._steps import CutoverSteps
    from ._survey import Survey
    from ._verify import Verification

__all__ = ["ROLLBACK", "STEPS", "RunParts", "RunState", "Step", "resume_from", "undo", "walk"]

Command = Callable[["Cutover", "str | None"], Awaitable["CutoverResult"]]
"""A step on its own: gets the ``--backup`` ID (None: the newest, or a step without one)."""

Stage = Callable[["CutoverSteps", "RunState"], Awaitable["CutoverResult | None"]]
"""A step inside ``run``: fills in the run's state; a result ends the run."""


@dataclass(frozen=True)
class Step:
    """One step of the cutover.

    Attributes:
        name: Its subcommand, and the ``step`` of its progress events.
        help: One line: the subcommand's help.
        command: The step on its own, as ``pos-cutover NAME`` runs it.
        run: The step inside ``run``.
        undo: The step that takes back what this one changes (None: it changes nothing
            of the project). Its ``run`` is what a failed ``run`` calls; its ``command``
            is a subcommand of its own.
        needs_backup_id: The command works on an existing backup (``--backup ID``).
        plans_changes: The step plans the project's changes (``--plan`` and the
            praxis-os options).
        needs_store: The step reaches the session store (``--store``).
        maps_specs: The step plans legacy sessions (``--spec-map``).
        lists_findings: Its progress lists pre-check findings (``--verbose``).
    """

    name: str
    help: str
    command: Command
    run: Stage
    undo: Step | None = None
    needs_backup_id: bool = False
    plans_changes: bool = False
    needs_store: bool = True
    maps_specs: bool = False
    lists_findings: bool = False


@dataclass(kw_only=True)
class RunParts:
    """What a run makes, step by step: kept in its :class:`RunState`, returned in its result.

    :class:`RunState` and :class:`~pos_cutover.CutoverResult` both are RunParts, so a
    part added here is carried from the one to the other (:meth:`parts`).

    Attributes:
        recovery: What recovering an interrupted cutover did first.
        checks: The pre-checks' report.
        backup: The backup taken (or resumed).
        apply: What apply changed.
        migrations: What each migration step did.
        verification: What verify found.
        rollback: The rollback record, when the run was rolled back.
        report: The validation report.
        report_files: Where the report was written.
    """

    recovery: Recovery | None = None
    checks: CheckReport | None = None
    backup: Backup | None = None
    apply: ApplyResult | None = None
    migrations: list[MigrationOutcome] = field(default_factory=list)
    verification: Verification | None = None
    rollback: dict[str, Any] | None = None
    report: Report | None = None
    report_files: list[str] = field(default_factory=list)

    def parts(self) -> dict[str, Any]:
        """The parts as keyword arguments (of a :class:`~pos_cutover.CutoverResult`)."""
        return {part.name: getattr(self, part.name) for part in fields(RunParts)}


@dataclass(kw_only=True)
class RunState(RunParts):
    """What the steps of one ``run`` found and made so far, handed from step to step.

    Attributes:
        current: The project's survey made before the run (what is left to change).
        skip_checks: Go on although a pre-check failed (a rollback drill).
        resumed: The run finishes an interrupted cutover whose files are in place:
            apply only runs the migration steps again.
        started: The steps started, in order (what :func:`undo` takes back).
    """

    current: Survey | None = None
    skip_checks: bool = False
    resumed: bool = False
    started: list[Step] = field(default_factory=list)

    def taken(self) -> Backup:
        """The run's backup (a step that needs it comes after backup in the table)."""
        if self.backup is None:
            raise RuntimeError("a step that needs the backup comes before the backup step")
        return self.backup


# --------------------------------------------------------------- the walk


async def walk(cutover: CutoverSteps, state: RunState, steps: Sequence[Step]) -> CutoverResult:
    """Run ``steps`` in order on ``state``; the first result a step returns ends the run.

    When every step went through, the cutover is done: its journal is closed.
    """
    from ._journal import clear_journal  # noqa: PLC0415 - see the imports

    for step in steps:
        state.started.append(step)
        stop = await step.run(cutover, state)
        if stop is not None:
            return stop
    clear_journal(cutover.project)
    backup = state.taken()
    before = len(backup.tools)
    after = len(state.verification.tools) if state.verification else 0
    return cutover._result(
        "run",
        "cut_over",
        ExitCode.OK,
        f"cut over: {before} tools -> {after}; report in {backup.backup_id}",
        partial=list(state.report.data["partial"]) if state.report else [],
        **state.parts(),
    )


def resume_from(steps: Sequence[Step]) -> Sequence[Step]:
    """The steps an interrupted cutover whose files are in place resumes with.

    That is from the first step with an undo: the one that changed the project.
    """
    first = next(i for i, step in enumerate(steps) if step.undo is not None)
    return steps[first:]


async def undo(cutover: CutoverSteps, state: RunState) -> dict[str, Any]:
    """Take back every step the run started, newest first; return the rollback record."""
    for step in reversed(state.started):
        if step.undo is not None:
            await step.undo.run(cutover, state)
    if state.rollback is None:
        raise RuntimeError("undo was asked for, but no step started has an undo")
    return state.rollback


# ------------------------------------------------------- the steps in run


async def _check(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    state.checks = checks = await cutover._checks(lock_held=True, current=state.current)
    if checks.ok:
        return None
    if not state.skip_checks:
        names = ", ".join(r.name for r in checks.failed)
        return cutover._result(
            "run",
            "check_failed",
            ExitCode.FAILED,
            f"pre-checks failed ({names}); nothing was changed",
            **state.parts(),
        )
    cutover._emit(
        "check", "warn", "pre-checks failed but --skip-checks was given: going ahead (a drill)"
    )
    return None


async def _backup(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    from ._files import json_bytes  # noqa: PLC0415 - see the imports
    from ._steps import CHECKS_FILE, told  # noqa: PLC0415

    try:
        state.backup = backup = await cutover._backup(state.current)
    except (BackupError, ServerStartError, StoreError) as exc:
        cutover._emit("backup", "fail", exc.message)
        return cutover._result(
            "run",
            "backup_failed",
            ExitCode.FAILED,
            f"backup failed; nothing was changed: {told(exc)}",
            **state.parts(),
        )
    if state.checks is not None:
        backup.write_output(CHECKS_FILE, json_bytes(state.checks.to_dict()))
    return None


async def _apply(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    from ._migrate import run_migration_steps  # noqa: PLC0415 - see the imports

    backup = state.taken()
    try:
        if state.resumed:
            state.migrations = run_migration_steps(cutover.migration_context(backup))
            for outcome in state.migrations:
                cutover._emit("recover", "info", f"migration {outcome.name}: {outcome.message}")
        else:
            state.apply, state.migrations = cutover._apply(backup)
    except CutoverError as exc:
        cutover._emit("apply", "fail", exc.message)
        record = await undo(cutover, state)
        ok = bool(record["ok"])
        return cutover._result(
            "run",
            "rolled_back" if ok else "rollback_failed",
            ExitCode.ROLLED_BACK if ok else ExitCode.ROLLBACK_FAILED,
            f"apply failed ({exc.message}); {record['message']}",
            **state.parts(),
        )
    return None


async def _verify(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    from ._journal import set_journal_state  # noqa: PLC0415 - see the imports

    backup = state.taken()
    state.verification = verification = await cutover._verify(backup)
    if verification.ok:
        set_journal_state(cutover.project, "verified")
        return None
    record = await undo(cutover, state)
    # The report of a rolled-back cutover says what failed and that it was undone.
    state.report, state.report_files = cutover._report(backup, verification, state.checks, record)
    if record["ok"]:
        return cutover._result(
            "run",
            "rolled_back",
            ExitCode.ROLLED_BACK,
            f"verification failed; rolled back to {backup.backup_id}: {record['message']}",
            **state.parts(),
        )
    return cutover._result(
        "run",
        "rollback_failed",
        ExitCode.ROLLBACK_FAILED,
        f"verification failed and the rollback failed: {record['message']}",
        **state.parts(),
    )


async def _report(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    state.report, state.report_files = cutover._report(
        state.taken(), state.verification, state.checks
    )
    return None


async def _roll_back(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    state.rollback = await cutover._rollback(state.taken())
    return None


async def _report_command(cutover: Cutover, backup_id: str | None) -> CutoverResult:
    return cutover.report(backup_id)  # the one step that starts no server: not a coroutine


# ------------------------------------------------------------------ the table

ROLLBACK = Step(
    "rollback",
    "restore the registry byte-identical to a backup and verify the old surface",
    command=lambda cutover, backup_id: cutover.rollback(backup_id),
    run=_roll_back,
    needs_backup_id=True,
)
"""The undo of apply: restore every file of the backup, verify the old surface."""

STEPS: tuple[Step, ...] = (
    Step(
        "check",
        "pre-checks only (PASS/WARN/FAIL with reasons); changes nothing",
        command=lambda cutover, _: cutover.check(),
        run=_check,
        plans_changes=True,
        maps_specs=True,
        lists_findings=True,
    ),
    Step(
        "backup",
        "take a verified backup and start the canary session",
        command=lambda cutover, _: cutover.backup(),
        run=_backup,
        plans_changes=True,
    ),
    Step(
        "apply",
        "replace the registry atomically (journaled) with a backup's target",
        command=lambda cutover, backup_id: cutover.apply(backup_id),
        run=_apply,
        undo=ROLLBACK,
        needs_backup_id=True,
        maps_specs=True,
    ),
    Step(
        "verify",
        "verify the cut-over project through a fresh server subprocess",
        command=lambda cutover, backup_id: cutover.verify(backup_id),
        run=_verify,
        needs_backup_id=True,
    ),
    Step(
        "report",
        "render the validation report of a backup's cutover",
        command=_report_command,
        run=_report,
        needs_backup_id=True,
        needs_store=False,
    ),
)
"""The steps of ``run``, in order."""
