"""Backups: written, read back and verified; tampering and loss are detected."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pos_cutover import (
    INVENTORY_FILE,
    LEGACY_COPY_DIR,
    SNAPSHOT_FILE,
    BackupError,
    ChangeOptions,
    FileChange,
    SessionInventory,
    default_plan,
    find_backup,
    list_backups,
    state_manifest,
    verify_backup,
)
from pos_cutover._backup import new_backup_folder, write_backup
from pos_engine import FileSessionStore, SessionSnapshot, record_digest
from pos_engine.testing import make_session
from pos_tool import REGISTRY_FILE

TOOLS = {"tools": [{"name": "start_workflow"}, {"name": "get_server_info"}]}
SESSION = "a_py_20250101_000000_aaaaaa"
LEGACY_ID = "0b7c6a4e-1111-4222-8333-444455556666"


def _project(
    root: Path, registry: bytes | None = b'{"version": 1, "groups": ["workflow_legacy"]}\n'
) -> Path:
    if registry is not None:
        (root / REGISTRY_FILE).parent.mkdir(parents=True)
        (root / REGISTRY_FILE).write_bytes(registry)
    store = FileSessionStore.from_project(root, durable=False)
    store.create(make_session(SESSION))
    store.update(SESSION, lambda s: s.model_copy(update={"checkpoint_note": "worked on"}))
    legacy = root / ".praxis-os/.cache/state"
    legacy.mkdir(parents=True)
    (legacy / f"{LEGACY_ID}.json").write_text('{"legacy": true}')
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
    assert (backup.state_files, backup.legacy_files, backup.sessions) == (1, 1, 1)
    assert (backup.store_setting, backup.store_where) == (
        None,
        FileSessionStore.from_project(project).describe(),
    )
    assert backup.project_name == project.name
    assert sorted(p.name for p in backup.path.iterdir()) == [
        "legacy-state",
        "manifest.json",
        "plan.json",
        "registry.json",
        "state-manifest.json",
        INVENTORY_FILE,
        SNAPSHOT_FILE,
        "target-registry.json",
        "tools-list.json",
    ]


def test_a_backup_copies_every_legacy_session_file_byte_for_byte_and_verifies_the_copies(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    nested = project / ".praxis-os/.cache/state/archive/old.json"
    nested.parent.mkdir()
    nested.write_bytes(b'{"older": true}')
    folder = _backup(project)

    copies = sorted(
        p.relative_to(folder).as_posix() for p in (folder / LEGACY_COPY_DIR).rglob("*.json")
    )
    manifest = json.loads((folder / "manifest.json").read_text())

    assert copies == [
        "legacy-state/0b7c6a4e-1111-4222-8333-444455556666.json",
        "legacy-state/archive/old.json",
    ]
    assert (folder / copies[1]).read_bytes() == nested.read_bytes()
    assert manifest["version"] == 4
    assert set(copies) <= set(manifest["files"])
    assert verify_backup(folder).legacy_files == 2

    (folder / copies[0]).write_text('{"legacy": 1234}')
    with pytest.raises(BackupError) as caught:
        verify_backup(folder)
    assert caught.value.problems == [
        f"{copies[0]}: sha256 differs from the manifest (changed after the backup)"
    ]


def test_a_backup_whose_legacy_copy_is_unrecorded_or_disagrees_with_the_state_manifest_fails(
    tmp_path: Path,
) -> None:
    folder = _backup(_project(tmp_path))
    manifest = json.loads((folder / "manifest.json").read_text())
    name = "legacy-state/0b7c6a4e-1111-4222-8333-444455556666.json"
    recorded = manifest["files"].pop(name)
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(BackupError) as missing:
        verify_backup(folder)
    (folder / name).write_bytes(b"{}")  # a consistent manifest, but not the file backed up
    manifest["files"][name] = {"sha256": hashlib.sha256(b"{}").hexdigest(), "size": 2}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError) as differs:
        verify_backup(folder)
    manifest["files"]["../escape.json"] = recorded
    manifest["files"][name] = recorded
    (folder / name).write_bytes(b'{"legacy": true}')
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError) as escape:
        verify_backup(folder)

    assert missing.value.problems == [
        f"{name}: the copy of .praxis-os/.cache/state/0b7c6a4e-1111-4222-8333-444455556666.json "
        "is not recorded in the manifest"
    ]
    assert differs.value.problems == [
        f"{name}: the copy differs from "
        ".praxis-os/.cache/state/0b7c6a4e-1111-4222-8333-444455556666.json in the state manifest"
    ]
    assert escape.value.problems == ["../escape.json: not a file name"]


def test_a_version_1_backup_without_legacy_copies_still_verifies(tmp_path: Path) -> None:
    folder = _backup(_project(tmp_path))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["version"] = 1
    manifest["files"] = {k: v for k, v in manifest["files"].items() if "/" not in k}
    (folder / "manifest.json").write_text(json.dumps(manifest))

    assert verify_backup(folder).legacy_files == 1


def test_a_legacy_file_that_changes_while_the_backup_is_taken_fails_the_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    real = state_manifest

    def racing(root: Path) -> dict[str, object]:
        taken = real(root)
        (root / ".praxis-os/.cache/state/0b7c6a4e-1111-4222-8333-444455556666.json").write_text(
            "{}"
        )
        return taken

    monkeypatch.setattr("pos_cutover._backup.state_manifest", racing)

    with pytest.raises(BackupError, match=r"cannot copy the legacy session file .* \(it changed\)"):
        _backup(project)


def test_the_state_manifest_lists_every_legacy_session_file_and_nothing_of_the_store(
    tmp_path: Path,
) -> None:
    manifest = state_manifest(_project(tmp_path))

    assert manifest["roots"] == [".praxis-os/.cache/state"]
    assert [e["path"] for e in manifest["files"]] == [f".praxis-os/.cache/state/{LEGACY_ID}.json"]
    assert all(len(e["sha256"]) == 64 and e["size"] >= 0 for e in manifest["files"])


@pytest.mark.slow
def test_the_backup_records_the_store_through_its_api_every_session_and_the_ones_it_may_create(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    store = FileSessionStore.from_project(project)
    broken = "b_py_20250101_000000_bbbbbb"
    (store.state_dir / f"{broken}.json").write_text("{not json")  # a record nobody can read
    folder = new_backup_folder(project)

    backup = write_backup(
        project, folder, default_plan(), TOOLS, touched=[LEGACY_ID, SESSION, broken]
    )

    stored = store.load(SESSION)
    assert backup.inventory() == SessionInventory(
        {SESSION: (2, record_digest(stored).hex())},
        (broken,),
        store.describe(),
        backup.inventory().taken_at,
    )
    assert backup.sessions == 2
    snapshot = backup.snapshot()
    assert (dict(snapshot.records), snapshot.unreadable) == (
        {LEGACY_ID: None, SESSION: stored},
        (broken,),
    )
    # What a rollback restores an id to: absent unless the backup recorded it.
    assert dict(backup.snapshot([LEGACY_ID, "c_new", SESSION, broken]).records) == {
        LEGACY_ID: None,
        "c_new": None,
        SESSION: stored,
    }


def test_a_project_whose_file_store_does_not_exist_yet_is_backed_up_without_creating_it(
    tmp_path: Path,
) -> None:
    (tmp_path / ".praxis-os").mkdir()
    folder = new_backup_folder(tmp_path)

    backup = write_backup(tmp_path, folder, default_plan(), TOOLS, touched=[LEGACY_ID])

    assert (backup.sessions, backup.store_where) == (
        0,
        "the project's file store (no sessions yet)",
    )
    assert dict(backup.snapshot().records) == {LEGACY_ID: None}
    assert sorted(p.name for p in (tmp_path / ".praxis-os").iterdir()) == ["backups"]


def test_a_tampered_store_snapshot_or_inventory_fails_verification(tmp_path: Path) -> None:
    project = _project(tmp_path)
    folder = new_backup_folder(project)
    write_backup(project, folder, default_plan(), TOOLS, touched=[SESSION])
    snapshot = json.loads((folder / SNAPSHOT_FILE).read_text())
    snapshot["records"][SESSION]["current_phase"] = 3
    _rewrite(folder, SNAPSHOT_FILE, json.dumps(snapshot).encode())
    _rewrite(folder, INVENTORY_FILE, b'{"format": "something else"}')

    with pytest.raises(BackupError) as caught:
        verify_backup(folder)

    assert caught.value.problems == [
        f"{INVENTORY_FILE}: not a session inventory",
        f"{SNAPSHOT_FILE}: the session snapshot does not match its checksum: it was changed or "
        "damaged",
    ]


def _rewrite(folder: Path, name: str, data: bytes) -> None:
    """Replace a backup file and its manifest entry (so that only the content is wrong)."""
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_snapshot_round_trips_through_the_backup_unchanged(tmp_path: Path) -> None:
    project = _project(tmp_path)
    folder = new_backup_folder(project)
    backup = write_backup(project, folder, default_plan(), TOOLS, touched=[SESSION])

    data = json.loads((folder / SNAPSHOT_FILE).read_text())

    assert SessionSnapshot.from_dict(data) == backup.snapshot()


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


def test_a_backup_keeps_each_project_file_before_and_after_and_notices_a_changed_copy(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, registry=None)
    config = project / ".cursor/mcp.json"
    config.parent.mkdir()
    config.write_bytes(b'{"mcpServers": {}}')
    changes = [
        FileChange(".cursor/mcp.json", "client", config.read_bytes(), b'{"mcpServers": {"a": {}}}'),
        FileChange(".praxis-os/config.json", "praxis-config", None, b'{"mcp": {}}\n', 0o600),
    ]
    folder = new_backup_folder(project)
    options = ChangeOptions(client_command=("/x/pos-workflow",))

    backup = write_backup(
        project, folder, default_plan(), {"tools": []}, changes=changes, options=options
    )

    assert [(c.path, c.before, c.after, c.mode) for c in backup.changes()] == [
        (c.path, c.before, c.after, c.mode) for c in changes
    ]
    assert backup.options() == options
    assert backup.absent_dirs() == [".praxis-os/config"]
    assert sorted(
        p.relative_to(folder).as_posix() for p in (folder / "project-files").rglob("*.json")
    ) == [
        "project-files/after/.cursor/mcp.json",
        "project-files/after/.praxis-os/config.json",
        "project-files/before/.cursor/mcp.json",
    ]

    (folder / "project-files/after/.cursor/mcp.json").write_bytes(b"{}")
    with pytest.raises(BackupError) as caught:
        verify_backup(folder)
    assert (
        "project-files/after/.cursor/mcp.json: size 2 != 25 in the manifest" in caught.value.message
    )
