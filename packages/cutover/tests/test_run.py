"""``pos-cutover run`` end to end on the demo project: real server subprocesses, real files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from pos_cutover import (
    JOURNAL_FILE,
    LOCK_FILE,
    CutoverError,
    MigrationContext,
    MigrationOutcome,
    MigrationStep,
    ServerLauncher,
    apply_changes,
    default_plan,
    find_backup,
    register_migration_step,
    unregister_migration_step,
)
from pos_cutover._files import atomic_write, json_bytes, sha256_bytes
from pos_cutover._journal import Journal
from pos_cutover._run import Cutover
from pos_engine import FileSessionStore

OLD_TOOLS = [
    "start_workflow",
    "get_current_phase",
    "get_task",
    "complete_phase",
    "get_workflow_state",
    "create_workflow",
    "validate_workflow",
    "get_server_info",
    "current_date",
]


LEGACY_IDS = (
    "1d7c3a52-8e4b-4f6a-9c21-5b0e7d3f9a10",
    "4b9e2f17-3c6d-4a8e-b5f0-2d1a9c7e6b34",
    "7a3d5c88-0f2e-4b71-8d96-e4c5b1a20f57",
    "c2f1e4a9-6b58-4d3c-a07e-91f8d2b6c415",
)
"""The demo's legacy session files (.praxis-os/.cache/state/<id>.json)."""


def _session_files(project: Path) -> dict[str, bytes]:
    folder = FileSessionStore.project_state_dir(project)
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def _legacy_files(project: Path) -> dict[str, bytes]:
    folder = project / ".praxis-os/.cache/state"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def _broken_plan(tmp_path: Path) -> Path:
    data = default_plan().to_dict()
    data["groups"]["add"] = ["no_such_group"]
    data["target_registry"]["groups"] = ["no_such_group", "server_info"]
    path = tmp_path / "broken-plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_full_run_on_the_demo_cuts_over_and_a_second_run_is_a_no_op(
    demo: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    sessions_before = _session_files(demo)
    legacy_before = _legacy_files(demo)

    first = cli("run", "--project", str(demo))
    second = cli("run", "--project", str(demo), "--json")

    assert first.code == 0
    out: str = first.out
    steps = [line.split("]")[0] + "]" for line in out.splitlines() if line.startswith("[")]
    assert steps == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
    assert "# pos_workflow Production Validation Report" in out
    assert "- Tools after: 3 (plan: 3): pos_workflow, get_server_info, current_date" in out
    assert "- [x] All 14 actions tested ✅" in out
    assert "3 of 3 workflows completed through pos_workflow." in out
    assert "continued to completion through pos_workflow" in out
    assert "✅ Approve for production use" in out
    assert "cut_over cut over: 9 tools -> 3" in out
    assert registry_of(demo) == default_plan().target_bytes()
    backup = find_backup(demo)
    report_md = (backup.path / "report.md").read_text(encoding="utf-8")
    assert report_md in out
    report = json.loads((backup.path / "report.json").read_text(encoding="utf-8"))
    assert (report["recommendation"], report["tools_before"], report["tools_after"]) == (
        "approve",
        OLD_TOOLS,
        ["pos_workflow", "get_server_info", "current_date"],
    )
    assert report["groups"] == {
        "discovery": True,
        "execution": True,
        "management": True,
        "recovery": True,
    }
    after = _session_files(demo)
    assert {name: after[name] for name in sessions_before} == sessions_before
    assert sorted(set(after) - set(sessions_before)) == [f"{sid}.json" for sid in LEGACY_IDS]
    assert _legacy_files(demo) == legacy_before
    assert "### Legacy sessions" in out
    assert (
        "| `7a3d5c88-0f2e-4b71-8d96-e4c5b1a20f57.json` | `7a3d5c88-0f2e-4b71-8d96-e4c5b1a20f57` "
        "| feature_spec_legacy | failed | 2 | ✅ | ✅ | ✅ |"
    ) in out
    assert [m["ok"] for m in report["verification"]["migrated"]] == [True] * 4
    assert report["legacy_sessions"]["created"] == list(LEGACY_IDS)
    assert not (demo / JOURNAL_FILE).exists()
    assert not (demo / LOCK_FILE).exists()
    reported = cli("report", "--project", str(demo))
    assert reported.code == 0
    assert "pre-check agent-instructions: 13 mention(s) of old tools in 4 file(s)" in reported.out
    assert (
        "pre-check legacy-definitions: 1 legacy workflow(s) (feature_spec_legacy): 2 finding(s)"
        in reported.out
    )
    assert "validator 'under_specs' on field 'spec_dir' is not evaluated" in reported.out

    assert second.code == 0
    result = json.loads(second.out)
    assert (result["outcome"], result["exit_code"], result["command"]) == ("no_op", 0, "run")
    assert result["message"].startswith("already cut over")
    assert "already cut over" in second.err


def test_rollback_restores_a_byte_identical_registry_and_the_old_tools(
    demo: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    before = registry_of(demo)
    mode = (demo / ".praxis-os/config/tool-registry.json").stat().st_mode

    ran = cli("run", "--project", str(demo))
    rolled = cli("rollback", "--project", str(demo), "--json")

    assert (ran.code, rolled.code) == (0, 0)
    assert registry_of(demo) == before
    assert (demo / ".praxis-os/config/tool-registry.json").stat().st_mode == mode
    result = json.loads(rolled.out)
    assert result["outcome"] == "rolled_back"
    assert result["rollback"]["byte_identical"] is True
    assert result["rollback"]["tools"] == OLD_TOOLS
    assert (
        result["rollback"]["message"]
        == "registry byte-identical to the backup; 5 project file(s) byte-identical; the server "
        "lists the 9 tools of before"
    )


def test_a_cutover_whose_verify_fails_rolls_back_by_itself_to_a_byte_identical_registry(
    demo: Path, tmp_path: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    before = registry_of(demo)
    sessions_before = _session_files(demo)
    marker = demo / ".praxis-os/migrated.txt"

    def migrate(ctx: MigrationContext) -> MigrationOutcome:
        marker.write_text(ctx.backup.backup_id)
        return MigrationOutcome("marker", "wrote the marker", [".praxis-os/migrated.txt"])

    def undo(ctx: MigrationContext) -> MigrationOutcome:
        marker.unlink()
        return MigrationOutcome("marker", "removed the marker", [".praxis-os/migrated.txt"])

    register_migration_step(MigrationStep("marker", migrate, undo, "test step"))
    try:
        ran = cli(
            "run",
            "--project",
            str(demo),
            "--plan",
            str(_broken_plan(tmp_path)),
            "--skip-checks",
            "--json",
        )
    finally:
        unregister_migration_step("marker")

    assert ran.code == 3
    result = json.loads(ran.out)
    assert result["outcome"] == "rolled_back"
    assert result["checks"]["ok"] is False
    assert [m["name"] for m in result["migrations"]] == ["legacy-sessions", "marker"]
    assert result["migrations"][1] == {
        "name": "marker",
        "message": "wrote the marker",
        "changed": [".praxis-os/migrated.txt"],
        "sessions": [],
    }
    assert result["verification"]["problems"][0].startswith(
        "the server does not start after the cutover"
    )
    assert "names unknown group 'no_such_group'" in result["verification"]["server_error"]
    assert result["rollback"]["ok"] is True
    assert result["rollback"]["byte_identical"] is True
    assert [m["message"] for m in result["rollback"]["migrations_undone"]] == [
        "removed the marker",
        "removed 4 migrated legacy session(s); 4 legacy session file(s) unchanged",
    ]
    assert len(result["rollback"]["removed_probe_sessions"]) == 1
    assert "❌ Rollback required" in result["report"]["markdown"]
    assert registry_of(demo) == before
    assert not marker.exists()
    assert _session_files(demo) == sessions_before
    assert "pre-checks failed but --skip-checks was given" in ran.err


def test_a_failing_migration_step_rolls_the_cutover_back(
    demo: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    before = registry_of(demo)

    def refuse(ctx: MigrationContext) -> MigrationOutcome:
        raise CutoverError("legacy session 1234 cannot be converted", remediation="fix it")

    register_migration_step(MigrationStep("refuse", refuse))
    try:
        ran = cli("run", "--project", str(demo), "--json")
    finally:
        unregister_migration_step("refuse")

    assert ran.code == 3
    result = json.loads(ran.out)
    assert result["outcome"] == "rolled_back"
    assert result["message"].startswith("apply failed (legacy session 1234 cannot be converted)")
    assert registry_of(demo) == before


def _backup_then_apply(demo: Path, launcher: ServerLauncher) -> str:
    result = anyio.run(Cutover(demo, launcher=launcher).backup)
    assert result.backup is not None
    apply_changes(demo, result.backup)
    return result.backup.backup_id


def test_a_run_after_an_interrupted_cutover_completes_it_and_says_so(
    demo: Path,
    launcher: ServerLauncher,
    cli: Callable[..., Any],
    registry_of: Callable[[Path], bytes | None],
) -> None:
    backup_id = _backup_then_apply(demo, launcher)

    ran = cli("run", "--project", str(demo))

    assert ran.code == 0
    assert f"an interrupted cutover from {backup_id} was completed" in ran.out
    assert "✅ Approve for production use" in ran.out
    assert registry_of(demo) == default_plan().target_bytes()
    assert not (demo / JOURNAL_FILE).exists()


def test_a_run_after_an_apply_killed_before_the_rename_rolls_it_back_and_cuts_over_afresh(
    demo: Path,
    launcher: ServerLauncher,
    cli: Callable[..., Any],
    registry_of: Callable[[Path], bytes | None],
) -> None:
    before = registry_of(demo)
    assert before is not None
    backup_id = _backup_then_apply(demo, launcher)
    atomic_write(
        demo / ".praxis-os/config/tool-registry.json", before
    )  # as if killed before the rename

    ran = cli("run", "--project", str(demo), "--json")

    result = json.loads(ran.out)
    assert ran.code == 0
    assert result["recovery"]["outcome"] == "rolled_back"
    assert result["recovery"]["message"].startswith(
        f"an interrupted cutover from {backup_id} was rolled back"
    )
    assert result["outcome"] == "cut_over"
    assert result["backup"]["backup_id"] != backup_id
    assert registry_of(demo) == default_plan().target_bytes()
    store = FileSessionStore.from_project(demo)
    assert [
        s.target_file for s in store.list_summaries() if s.target_file.startswith("cutover-probe/")
    ] == []


def test_backup_apply_verify_report_and_rollback_work_as_separate_commands(
    demo: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    before = registry_of(demo)

    backed_up = cli("backup", "--project", str(demo), "--json")
    early = cli("verify", "--project", str(demo), "--json")
    applied = cli("apply", "--project", str(demo))
    verified = cli("verify", "--project", str(demo))
    reported = cli("report", "--project", str(demo), "--environment", "staging", "--tester", "ci")
    backup_id = json.loads(backed_up.out)["backup"]["backup_id"]
    rolled = cli("rollback", "--project", str(demo), "--backup", backup_id)

    assert [r.code for r in (backed_up, early, applied, verified, reported, rolled)] == [
        0,
        1,
        0,
        0,
        0,
        0,
    ]
    problems = json.loads(early.out)["verification"]["problems"]
    assert problems[:2] == [
        "tools/list has 9 tools, the plan expects 3",
        "required tool 'pos_workflow' is not listed",
    ]
    assert "old tool 'start_workflow' is still listed" in problems
    assert "registry replaced" in applied.out
    assert "verification passed" in verified.out
    assert "- Environment: staging" in reported.out
    assert "- Tester: ci" in reported.out
    assert "byte-identical" in rolled.out
    assert registry_of(demo) == before


@pytest.mark.parametrize("command", ["apply", "verify", "rollback", "report"])
def test_commands_that_need_a_backup_say_there_is_none(
    tmp_path: Path, cli: Callable[..., Any], command: str
) -> None:
    (tmp_path / ".praxis-os").mkdir()

    ran = cli(command, "--project", str(tmp_path), "--json")

    assert ran.code == 2
    assert json.loads(ran.out)["message"] == "no backup under .praxis-os/backups"


def test_a_crash_after_apply_exits_4_and_the_next_run_recovers_it(
    demo: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    def crash(ctx: MigrationContext) -> MigrationOutcome:
        raise RuntimeError("power cut")

    register_migration_step(MigrationStep("crash", crash))
    try:
        crashed = cli("run", "--project", str(demo))
    finally:
        unregister_migration_step("crash")
    recovered = cli("run", "--project", str(demo), "--json")

    assert crashed.code == 4
    assert (
        "pos-cutover: unexpected RuntimeError: power cut; an unfinished cutover is journaled"
        in crashed.err
    )
    assert recovered.code == 0
    result = json.loads(recovered.out)
    assert (result["recovery"]["outcome"], result["outcome"]) == ("completed", "cut_over")
    assert registry_of(demo) == default_plan().target_bytes()


def test_a_migration_step_that_fails_while_recovering_rolls_the_cutover_back(
    demo: Path,
    launcher: ServerLauncher,
    cli: Callable[..., Any],
    registry_of: Callable[[Path], bytes | None],
) -> None:
    before = registry_of(demo)
    _backup_then_apply(demo, launcher)

    def refuse(ctx: MigrationContext) -> MigrationOutcome:
        raise CutoverError("legacy session 1234 cannot be converted")

    register_migration_step(MigrationStep("refuse", refuse))
    try:
        ran = cli("run", "--project", str(demo), "--json")
    finally:
        unregister_migration_step("refuse")

    result = json.loads(ran.out)
    assert ran.code == 3
    assert (result["recovery"]["outcome"], result["outcome"]) == ("completed", "rolled_back")
    assert registry_of(demo) == before
    assert not (demo / JOURNAL_FILE).exists()


def _leave_applied_journal(project: Path, backup_id: str) -> None:
    """Write the journal an earlier pos-cutover left after separate steps: still ``applied``."""
    backup = find_backup(project, backup_id)
    journal = Journal(
        backup.backup_id,
        "applied",
        backup.registry_sha256,
        sha256_bytes(backup.target_bytes()),
        started_at=backup.created_at,
    )
    atomic_write(project / JOURNAL_FILE, json_bytes(journal.to_dict()))


def test_separate_steps_are_settled_by_verify_and_a_later_run_never_undoes_them(
    demo: Path, cli: Callable[..., Any], registry_of: Callable[[Path], bytes | None]
) -> None:
    target = default_plan().target_bytes()
    steps = [cli(command, "--project", str(demo)) for command in ("backup", "apply", "verify")]
    journal_after_verify = (demo / JOURNAL_FILE).exists()
    reported = cli("report", "--project", str(demo))
    then_run = cli("run", "--project", str(demo), "--json")

    assert [r.code for r in (*steps, reported)] == [0, 0, 0, 0]
    assert "ok verification passed; the cutover is complete (exit 0)" in steps[2].out
    assert "journal closed" in steps[2].out
    assert journal_after_verify is False
    result = json.loads(then_run.out)
    assert (then_run.code, result["outcome"], result["recovery"]["outcome"]) == (0, "no_op", "none")
    assert registry_of(demo) == target

    # An applied journal whose verification already passed (as earlier versions left it):
    backup_id = find_backup(demo).backup_id
    _leave_applied_journal(demo, backup_id)
    recovered = cli("run", "--project", str(demo), "--json")

    result = json.loads(recovered.out)
    assert (recovered.code, result["outcome"]) == (0, "cut_over")
    assert result["message"].startswith(
        f"the cutover from {backup_id} was already applied and verified (verification passed at "
    )
    assert result["verification"]["ok"] is True
    assert not (demo / JOURNAL_FILE).exists()

    # The same without the verification record: verified again, without the canary session,
    # which the first verification completed and removed.
    (find_backup(demo).path / "verification.json").unlink()
    _leave_applied_journal(demo, backup_id)
    reverified = cli("run", "--project", str(demo), "--json")

    result = json.loads(reverified.out)
    assert (reverified.code, result["outcome"]) == (0, "cut_over"), result["message"]
    continuity = result["verification"]["continuity"]
    assert continuity["ok"] is True
    assert ", already continued by the verification of " in continuity["detail"]
    assert [m["ok"] for m in result["verification"]["migrated"]] == [True] * 4
    assert registry_of(demo) == target
    assert not (demo / JOURNAL_FILE).exists()
