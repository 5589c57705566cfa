"""The command line: usage, exit codes, JSON output, the guide and demo commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover import default_plan


def test_help_documents_every_exit_code(cli: Callable[..., Any]) -> None:
    ran = cli("--help", server=False)

    assert ran.code == 0
    for line in (
        "0  done, or nothing to do (already cut over)",
        "1  a pre-check, the backup or verification failed; nothing of the project was changed",
        "2  usage: bad arguments, an invalid plan, an unknown backup, a folder without .praxis-os/",
        "3  verification failed after apply; rolled back, every file byte-identical to the backup",
        "4  rollback failed, or a file matches neither backup nor target: a human must look",
        "5  another cutover (run, apply, rollback) is running on this project",
        "6  cut over and verified, but partial: legacy sessions were left behind (see the report);",
    ):
        assert line in ran.out


def test_version_is_the_installed_one(cli: Callable[..., Any]) -> None:
    from pos_cutover import __version__  # noqa: PLC0415

    ran = cli("--version", server=False)

    assert (ran.code, ran.out.strip()) == (0, f"pos-cutover {__version__}")


def test_usage_errors_exit_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    no_command = cli(server=False)
    unknown_option = cli("run", "--bogus", server=False)
    not_a_folder = cli("check", "--project", str(tmp_path / "missing"))

    assert [r.code for r in (no_command, unknown_option, not_a_folder)] == [2, 2, 2]
    assert not_a_folder.err == (
        f"pos-cutover check: no folder {str(tmp_path / 'missing')!r}; pass --project PATH "
        "(the folder that holds .praxis-os/)\n"
    )


@pytest.mark.parametrize(
    "command", ["run", "check", "backup", "apply", "verify", "rollback", "report"]
)
def test_a_folder_without_praxis_os_is_refused_with_exit_2_and_left_untouched(
    cli: Callable[..., Any], tmp_path: Path, command: str
) -> None:
    (tmp_path / "README.md").write_text("not a praxis-os project\n")

    ran = cli(command, "--project", str(tmp_path))

    assert (ran.code, ran.out) == (2, "")
    assert ran.err == (
        f"pos-cutover {command}: no .praxis-os/ in {str(tmp_path)!r}: not a praxis-os project; "
        "pass --project PATH (the folder that holds .praxis-os/)\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def test_an_invalid_plan_exits_2_naming_every_problem(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = default_plan().to_dict()
    data["expected_tools"] = {"before": -1, "after": 0}
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(data))

    ran = cli("run", "--project", str(tmp_path), "--plan", str(plan))

    assert ran.code == 2
    assert "/expected_tools/after: 0 is less than the minimum of 1" in ran.err
    assert "/expected_tools/before: -1 is less than the minimum of 0" in ran.err


def test_guide_prints_the_migration_table(cli: Callable[..., Any]) -> None:
    ran = cli("guide", server=False)

    assert ran.code == 0
    assert ran.out.splitlines()[0] == "| old tool call | pos_workflow call | note |"


@pytest.mark.slow
def test_check_json_output_parses_and_progress_goes_to_stderr(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    (tmp_path / ".praxis-os").mkdir()

    ran = cli("check", "--project", str(tmp_path), "--json")

    result = json.loads(ran.out)
    assert ran.code == 0
    assert (result["command"], result["outcome"], result["exit_code"]) == ("check", "ok", 0)
    assert [r["name"] for r in result["checks"]["results"]][:3] == [
        "journal",
        "registry",
        "target-registry",
    ]
    assert "PASS surface already cut over: nothing to do" in " ".join(ran.err.split())


@pytest.mark.slow
def test_demo_command_materialises_a_project_and_refuses_a_non_empty_folder(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    made = cli("demo", str(tmp_path / "demo"))
    again = cli("demo", str(tmp_path / "demo"))

    assert (made.code, again.code) == (0, 2)
    assert made.out.startswith(f"demo project: {tmp_path / 'demo'}")
    assert len(made.out.splitlines()) == 8
    assert made.out.splitlines()[4:5] == [
        "  legacy session file: .praxis-os/.cache/state/1d7c3a52-8e4b-4f6a-9c21-5b0e7d3f9a10.json"
    ]
    assert "exists and is not an empty folder" in again.err
