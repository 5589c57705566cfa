"""Backups: written, read back and verified; tampering and loss are detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pos_cutover import (
    BackupError,
    default_plan,
    find_backup,
    list_backups,
    state_manifest,
    verify_backup,
)
from pos_cutover._backup import new_backup_folder, session_ids, write_backup
from pos_tool import REGISTRY_FILE

TOOLS = {"tools": [{"name": "start_workflow"}, {"name": "get_server_info"}]}


def _project(
    root: Path, registry: bytes | None = b'{"version": 1, "groups": ["workflow_legacy"]}\n'
) -> Path:
    if registry is not None:
        (root / REGISTRY_FILE).parent.mkdir(parents=True)
        (root / REGISTRY_FILE).write_bytes(registry)
    sessions = root / ".praxis-os/state/workflows"
    sessions.mkdir(parents=True)
    (sessions / "a_py_20250101_000000_aaaaaa.json").write_text('{"id": "a"}')
    (sessions / ".locks").mkdir()
    (sessions / ".locks/a_py_20250101_000000_aaaaaa.lock").write_text("")
    legacy = root / ".praxis-os/.cache/state"
    legacy.mkdir(parents=True)
    (legacy / "0b7c6a4e-1111-4222-8333-444455556666.json").write_text('{"legacy": true}')
    return root


def _backup(project: Path) -> Path:
    folder = new_backup_folder(project)
    write_backup(project, folder, default_plan(), TOOLS)
    return folder


def test_a_backup_holds_the_registry_tools_and_state_manifest_and_verifies(tmp_path: Path) -> None:
    project = _project(tmp_path)

    backup = verify_backup(_backup(project))

    assert backup.registry_bytes() == (project / REGISTRY_FILE).read_bytes()
    assert backup.tools == ["start_workflow", "get_server_info"]
    assert backup.tools_wire() == TOOLS
    assert backup.target_bytes() == default_plan().target_bytes()
    assert backup.state_files == 3
    assert backup.project_name == project.name
    assert sorted(p.name for p in backup.path.iterdir()) == [
        "manifest.json",
        "plan.json",
        "registry.json",
        "state-manifest.json",
        "target-registry.json",
        "tools-list.json",
    ]


def test_the_state_manifest_lists_every_state_file_with_its_sha256(tmp_path: Path) -> None:
    manifest = state_manifest(_project(tmp_path))

    assert manifest["roots"] == [".praxis-os/state", ".praxis-os/.cache/state"]
    assert [e["path"] for e in manifest["files"]] == [
        ".praxis-os/.cache/state/0b7c6a4e-1111-4222-8333-444455556666.json",
        ".praxis-os/state/workflows/.locks/a_py_20250101_000000_aaaaaa.lock",
        ".praxis-os/state/workflows/a_py_20250101_000000_aaaaaa.json",
    ]
    assert all(len(e["sha256"]) == 64 and e["size"] >= 0 for e in manifest["files"])
    assert session_ids(manifest) == ["a_py_20250101_000000_aaaaaa"]


def test_backup_verification_detects_a_tampered_file(tmp_path: Path) -> None:
    folder = _backup(_project(tmp_path))
    registry = folder / "registry.json"
    registry.write_bytes(registry.read_bytes().replace(b"workflow_legacy", b"workflow_legacx"))

    with pytest.raises(BackupError) as caught:
        verify_backup(folder)

    assert caught.value.problems == [
        "registry.json: sha256 differs from the manifest (changed after the backup)"
    ]
    assert f"backup {folder.name} failed verification" in caught.value.message


def test_backup_verification_lists_every_missing_or_resized_file(tmp_path: Path) -> None:
    folder = _backup(_project(tmp_path))
    (folder / "tools-list.json").unlink()
    (folder / "plan.json").write_text("{}")

    with pytest.raises(BackupError) as caught:
        verify_backup(folder)

    assert [p.split(":")[0] for p in caught.value.problems] == ["plan.json", "tools-list.json"]
    assert caught.value.problems[1] == "tools-list.json: missing"


def test_an_unreadable_manifest_fails_verification(tmp_path: Path) -> None:
    folder = _backup(_project(tmp_path))
    (folder / "manifest.json").write_text("[]")

    with pytest.raises(BackupError, match="not a backup manifest"):
        verify_backup(folder)
    (folder / "manifest.json").write_text("{")
    with pytest.raises(BackupError, match="unreadable"):
        verify_backup(folder)


def test_a_project_without_a_registry_is_backed_up_as_a_record_that_none_existed(
    tmp_path: Path,
) -> None:
    folder = _backup(_project(tmp_path, registry=None))

    backup = verify_backup(folder)

    assert (backup.registry_existed, backup.registry_sha256, backup.registry_bytes()) == (
        False,
        None,
        None,
    )
    assert json.loads((folder / "registry-none.json").read_text()) == {
        "existed": False,
        "file": REGISTRY_FILE,
    }


def test_find_backup_picks_the_newest_and_names_the_known_ones(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(BackupError, match="no backup under"):
        find_backup(project)
    first, second = _backup(project), _backup(project)

    assert list_backups(project) == [first, second]
    assert find_backup(project).path == second
    assert find_backup(project, first.name).path == first
    with pytest.raises(BackupError, match=f"backups: {first.name}, {second.name}"):
        find_backup(project, "cutover-19990101T000000Z")
