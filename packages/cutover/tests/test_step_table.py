"""The step table is the one list of steps: the CLI and ``run`` take theirs from it."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pos_cutover import Cutover, ExitCode, ServerLauncher, list_backups, lock_holder
from pos_cutover._printer import Printer
from pos_cutover._result import CutoverResult, Event
from pos_cutover._step_table import ROLLBACK, STEPS, RunState, Step, undo
from pos_cutover._steps import CutoverSteps
from pos_cutover.cli import _parser
from pos_tool import REGISTRY_FILE
from rich.console import Console


async def _never(cutover: Any, backup_id: str | None) -> CutoverResult:
    raise AssertionError("the command of a step only added to look at the parser")


async def _go_on(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
    return None


CANARY = Step("canary", "ask the canary session once more", _never, _go_on, needs_backup_id=True)
WITH_CANARY = (*STEPS[:4], CANARY, STEPS[4])
"""The table with a step between verify and report."""


def test_run_is_check_backup_apply_verify_report_and_rollback_undoes_apply() -> None:
    assert [step.name for step in STEPS] == ["check", "backup", "apply", "verify", "report"]
    assert [step.name for step in STEPS if step.undo is not None] == ["apply"]
    assert STEPS[2].undo is ROLLBACK


def test_a_step_added_to_the_table_is_a_subcommand_and_a_step_of_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = _parser(WITH_CANARY)

    listed = parser.format_help()
    args = parser.parse_args(["canary", "--backup", "b1", "--project", "."])
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--help"])
    run_help = capsys.readouterr().out
    with pytest.raises(SystemExit):
        _parser().parse_args(["canary"])

    assert re.search(r"\n    canary +ask the canary session once more\n", listed)
    commands = re.findall(r"\n    (\w+) ", listed)
    assert commands == [
        "run",
        "check",
        "backup",
        "apply",
        "verify",
        "canary",
        "report",
        "rollback",
        "demo",
        "guide",
    ]
    assert "check -> backup -> apply -> verify -> canary -> report; rolls back" in run_help
    assert (args.step, args.backup) == (CANARY, "b1")
    assert parser.parse_args(["run"]).step is None
    assert parser.parse_args(["rollback"]).step is ROLLBACK


def test_the_options_of_a_subcommand_follow_its_step() -> None:
    parser = _parser()

    verify = parser.parse_args(["verify", "--backup", "b1", "--store", "file:///x"])
    with pytest.raises(SystemExit):
        parser.parse_args(["verify", "--plan", "p.json"])  # verify plans nothing
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "--store", "file:///x"])  # report reads the backup only
    run = parser.parse_args(["run", "--plan", "p.json", "--spec-map", "a=b", "--verbose"])

    assert (verify.backup, verify.store) == ("b1", "file:///x")
    assert (run.plan, run.spec_map, run.verbose) == (Path("p.json"), [("a", "b")], True)
    assert not hasattr(run, "backup")  # run makes its backup


def test_run_progress_is_numbered_by_the_table() -> None:
    out = io.StringIO()
    printer = Printer(Console(file=out, highlight=False, width=200), "run", steps=WITH_CANARY)

    printer(Event("canary", "start", "once more"))
    printer(Event("report", "start", "the report"))
    printer(Event("recover", "start", "not a step of the table"))

    assert out.getvalue().splitlines() == [
        "[5/6] canary once more",
        "[6/6] report the report",
        "recover not a step of the table",
    ]


@pytest.mark.anyio
async def test_run_walks_its_table_in_order_under_the_lock_and_a_result_ends_it(
    demo: Path, launcher: ServerLauncher
) -> None:
    seen: list[tuple[str, list[str], str | None, bool]] = []

    def recording(name: str, stop: bool) -> Step:
        async def run(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
            holder = lock_holder(cutover.project) or {}
            pending = state.current is not None and bool(state.current.pending())
            seen.append((name, [s.name for s in state.started], holder.get("command"), pending))
            if not stop:
                return None
            return cutover._result("run", "check_failed", ExitCode.FAILED, f"{name} stopped it")

        return Step(name, f"record {name}", _never, run)

    class Recorded(Cutover):
        steps: ClassVar[tuple[Step, ...]] = (
            recording("first", False),
            recording("second", True),
            recording("third", False),
        )

    result = await Recorded(demo, launcher=launcher).run()

    assert (result.outcome, result.exit_code, result.message) == (
        "check_failed",
        ExitCode.FAILED,
        "second stopped it",
    )
    assert seen == [("first", ["first"], "run", True), ("second", ["first", "second"], "run", True)]
    assert list_backups(demo) == []


@pytest.mark.anyio
async def test_a_step_that_fails_after_apply_is_undone_by_apply_s_undo(
    demo: Path, launcher: ServerLauncher
) -> None:
    before = (demo / REGISTRY_FILE).read_bytes()

    async def fail(cutover: CutoverSteps, state: RunState) -> CutoverResult | None:
        assert (demo / REGISTRY_FILE).read_bytes() != before  # apply went through
        record = await undo(cutover, state)
        return cutover._result(
            "run", "rolled_back", ExitCode.ROLLED_BACK, str(record["message"]), **state.parts()
        )

    class Failing(Cutover):
        steps: ClassVar[tuple[Step, ...]] = (
            *STEPS[1:3],
            Step("fail", "fail after apply", _never, fail),
        )

    result = await Failing(demo, launcher=launcher).run()

    assert (result.outcome, result.exit_code) == ("rolled_back", ExitCode.ROLLED_BACK)
    assert result.rollback is not None
    assert result.rollback["ok"] is True, result.rollback
    assert result.rollback["byte_identical"] is True
    assert (demo / REGISTRY_FILE).read_bytes() == before
