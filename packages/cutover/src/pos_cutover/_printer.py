"""How ``pos-cutover`` shows progress: each event one line, each check result with its findings."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from ._checks import CheckResult
from ._result import Event
from ._step_table import STEPS, Step

__all__ = ["Printer"]

_STYLE = {
    "PASS": "green",
    "WARN": "yellow",
    "FAIL": "red",
    "ok": "green",
    "warn": "yellow",
    "fail": "red",
}
_MARK = {"ok": "✓", "warn": "!", "fail": "✗", "info": "·"}


class Printer:
    """Renders progress events with rich; numbers the steps of ``run`` by the step table."""

    def __init__(
        self,
        console: Console,
        command: str,
        *,
        verbose: bool = False,
        steps: Sequence[Step] = STEPS,
    ) -> None:
        self.console = console
        self.command = command
        self.verbose = verbose
        self.steps = [step.name for step in steps]

    def _step_title(self, step: str) -> str:
        if self.command == "run" and step in self.steps:
            return f"[{self.steps.index(step) + 1}/{len(self.steps)}] {step}"
        return step

    def check(self, result: CheckResult) -> None:
        style = _STYLE[result.status]
        self.console.print(
            f"  [{style}]{result.status:<4}[/] [bold]{result.name:<18}[/] {escape(result.reason)}"
        )
        for finding in result.findings:
            where = f"{finding.location}: " if finding.location else ""
            instead = f" -> {finding.replacement}" if finding.replacement else ""
            self.console.print(
                f"        {escape(where + finding.message + instead)}", style="dim", soft_wrap=True
            )
        if self.verbose:
            for mention in result.details.get("mentions", []):
                self.console.print(
                    f"          {escape(mention['location'])}: {escape(mention['text'])}",
                    style="dim",
                    soft_wrap=True,
                )
        if result.status != "PASS" and result.remediation:
            self.console.print(f"        fix: {escape(result.remediation)}", style=style)

    def __call__(self, event: Event) -> None:
        if event.kind == "check" and event.check is not None:
            self.check(event.check)
        elif event.kind == "start":
            self.console.print(
                f"[bold cyan]{self._step_title(event.step)}[/] {escape(event.message)}"
            )
        else:
            style = _STYLE.get(event.kind, "dim")
            self.console.print(
                f"  [{style}]{_MARK.get(event.kind, '·')}[/] {escape(event.message)}",
                soft_wrap=True,
            )
