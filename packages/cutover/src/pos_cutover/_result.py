"""What every cutover step returns: an outcome, an exit code, progress events.

:class:`CutoverResult` is the result object of each step (and of ``run``); its
``exit_code`` is one of :class:`ExitCode`, which is also the process exit code
of ``pos-cutover``. Progress goes to a :data:`Progress` callable as :class:`Event`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._checks import CheckResult
from ._exit import ExitCode, package_version
from ._step_table import RunParts

__all__ = [
    "CutoverResult",
    "Event",
    "EventKind",
    "ExitCode",
    "Outcome",
    "Progress",
    "package_version",
    "quiet",
]


Outcome = Literal[
    "ok",
    "no_op",
    "cut_over",
    "partial",
    "check_failed",
    "backup_failed",
    "verify_failed",
    "rolled_back",
    "rollback_failed",
    "busy",
    "error",
    "not_a_project",
]
"""What a command (or ``run``) came to, for machines: :attr:`CutoverResult.outcome`.

ok: the command did its step. no_op: ``run`` found the project already cut over.
cut_over: ``run`` cut over and verified. partial: cut over and verified, but not
everything moved (see :attr:`CutoverResult.partial`). check_failed, backup_failed,
verify_failed: that step failed and nothing was changed (a failed verify on its
own changes nothing either). rolled_back: the cutover (or ``rollback``) restored
the backup. rollback_failed: the rollback failed, or a file matches neither side:
a human must look. busy: another cutover holds the lock. error: the command could
not start its step (an unknown backup, another store) or failed as its message
says. not_a_project: the folder holds no ``.praxis-os/``.
"""

EventKind = Literal["start", "ok", "warn", "fail", "info", "check"]


@dataclass(frozen=True)
class Event:
    """One progress event.

    Attributes:
        step: A step of the step table (``pos_cutover._step_table``) or its undo
            (check, backup, apply, verify, report, rollback), recover, or run.
        kind: start, ok, warn, fail, info, or check (one check result in ``check``).
        message: One line for humans.
        check: The check result, for ``kind == "check"``.
    """

    step: str
    kind: EventKind
    message: str
    check: CheckResult | None = None


Progress = Callable[[Event], None]


def quiet(_event: Event) -> None:
    """Progress sink that drops every event."""


@dataclass
class CutoverResult(RunParts):
    """What a step (or ``run``) did; the parts a run made are its :class:`RunParts`.

    Attributes:
        command: run, or a step of the step table or its undo (check, backup, apply,
            verify, report, rollback).
        outcome: A word for machines (see :data:`Outcome`).
        exit_code: The process exit code for this outcome.
        message: One sentence for humans.
        project: The project's folder.
        plan: Where the plan came from (``CutoverPlan.source``).
        partial: The legacy sessions left behind.
    """

    command: str
    outcome: Outcome
    exit_code: ExitCode
    message: str
    project: str = ""
    plan: str | None = None
    partial: list[str] = field(default_factory=list)

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
            "partial": self.partial,
        }
