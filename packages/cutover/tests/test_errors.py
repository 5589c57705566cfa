"""Failure paths of the commands: busy, changed registry, needs a human, failed backup or rollback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover import CutoverLock, apply_changes, default_plan, load_plan, verify_backup
from pos_cutover._backup import new_backup_folder, write_backup
from pos_cutover._journal import set_journal_state
from pos_tool import REGISTRY_FILE

LEGACY = b'{"version": 1, "groups": ["workflow_legacy", "server_info"]}\n'


def _project(root: Path, registry: bytes | None = LEGACY) -> Path:
    if registry is not None:
        (root / REGISTRY_FILE).parent.mkdir(parents=True, exist_ok=True)
        (root / REGISTRY_FILE).write_bytes(registry)
    return root


def _fake_backup(root: Path) -> str:
    """A verified backup written without a server (tools/list recorded as empty)."""
    folder = new_backup_folder(root)
    write_backup(root, folder, default_plan(), {"tools": []})
    return folder.name


@pytest.mark.parametrize("command", ["run", "backup", "apply", "verify", "rollback"])
def test_every_changing_command_is_refused_while_another_cutover_runs(
    tmp_path: Path, cli: Callable[..., Any], command: str
) -> None:
    with CutoverLock(tmp_path, "run"):
        ran = cli(command, "--project", str(tmp_path), "--json")

    assert ran.code == 5
    assert json.loads(ran.out)["outcome"] == "busy"


def test_apply_refuses_a_registry_changed_since_the_backup(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    project = _project(tmp_path)
    _fake_backup(project)
    (project / REGISTRY_FILE).write_bytes(b'{"version": 1, "groups": ["server_info"]}')

    ran = cli("apply", "--project", str(project), "--json")

    assert ran.code == 1
    assert json.loads(ran.out)["message"].startswith(
        ".praxis-os/config/tool-registry.json changed since backup"
    )


@pytest.mark.parametrize("command", ["run", "apply"])
def test_a_registry_that_matches_neither_backup_nor_target_is_left_to_a_human(
    tmp_path: Path, cli: Callable[..., Any], command: str
) -> None:
    project = _project(tmp_path)
    apply_changes(project, verify_backup(project / ".praxis-os/backups" / _fake_backup(project)))
    (project / REGISTRY_FILE).write_bytes(b'{"version": 1, "groups": ["server_info"]}')

    ran = cli(command, "--project", str(project), "--json")

    assert ran.code == 4
    assert (
        "match neither the backup nor the target: .praxis-os/config/tool-registry.json"
        in (json.loads(ran.out)["message"])
    )
    assert (project / REGISTRY_FILE).read_bytes() == b'{"version": 1, "groups": ["server_info"]}'


def test_a_run_after_a_verified_but_unfinished_cutover_just_finishes_it(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    project = _project(tmp_path)
    apply_changes(project, verify_backup(project / ".praxis-os/backups" / _fake_backup(project)))
    set_journal_state(project, "verified")

    ran = cli("run", "--project", str(project), "--json")

    result = json.loads(ran.out)
    assert ran.code == 0
    assert (result["outcome"], result["recovery"]["outcome"]) == ("cut_over", "completed")
    assert "it was already verified" in result["message"]
    assert not (project / ".praxis-os/cutover-journal.json").exists()


@pytest.mark.slow
def test_a_backup_fails_cleanly_when_the_server_does_not_start(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    project = _project(tmp_path, b'{"version": 1, "groups": ["ghost"]}')

    ran = cli("backup", "--project", str(project), "--json")

    assert ran.code == 1
    result = json.loads(ran.out)
    assert result["outcome"] == "backup_failed"
    assert "names unknown group 'ghost'" in result["message"]


@pytest.mark.slow
def test_a_rollback_whose_old_surface_does_not_start_fails_with_exit_4(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    ghost = b'{"version": 1, "groups": ["ghost"]}'
    project = _project(tmp_path, ghost)
    _fake_backup(project)
    (project / REGISTRY_FILE).write_bytes(default_plan().target_bytes())

    ran = cli("rollback", "--project", str(project), "--json")

    result = json.loads(ran.out)
    assert ran.code == 4
    assert result["outcome"] == "rollback_failed"
    assert result["rollback"]["ok"] is False
    assert (project / REGISTRY_FILE).read_bytes() == ghost


@pytest.mark.slow
def test_a_run_whose_pre_checks_fail_changes_nothing(
    tmp_path: Path, cli: Callable[..., Any], snapshot: Callable[[Path], dict[str, str]]
) -> None:
    project = _project(tmp_path, b'{"version": 1, "groups": ["ghost"]}')
    before = snapshot(project)

    ran = cli("run", "--project", str(project), "--json")

    result = json.loads(ran.out)
    assert ran.code == 1
    assert result["outcome"] == "check_failed"
    assert result["message"] == "pre-checks failed (server-current); nothing was changed"
    assert snapshot(project) == before  # not even the lock file is left behind


@pytest.mark.slow
def test_verify_without_a_canary_warns_that_continuity_was_not_shown(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    project = _project(tmp_path, None)
    plan = default_plan().to_dict()
    plan["verification"]["workflow_types"] = ["spec_creation_v1"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    folder = new_backup_folder(project)
    write_backup(project, folder, load_plan(path), {"tools": []})

    ran = cli("verify", "--project", str(project), "--json")
    reported = cli("report", "--project", str(project))

    result = json.loads(ran.out)
    assert ran.code == 0
    assert result["verification"]["warnings"] == [
        "session continuity not shown: no canary session was started before the cutover"
    ]
    assert {w["workflow_type"] for w in result["verification"]["workflows"]} == {"spec_creation_v1"}
    assert "- No pre-cutover session was continued ⚠️" in reported.out
