"""Apply and restore through the journal; a kill at any point is recovered on the next run."""

from __future__ import annotations

import os
import random
import signal
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
from pos_cutover import (
    JOURNAL_FILE,
    Backup,
    BackupError,
    JournalError,
    apply_changes,
    default_plan,
    read_journal,
    recover,
    restore_changes,
)
from pos_cutover._backup import new_backup_folder, write_backup
from pos_cutover._files import atomic_write, json_bytes
from pos_tool import REGISTRY_FILE

BEFORE = b'{"version": 1, "groups": ["workflow_legacy", "server_info"]}\n'


def _backed_up(root: Path, registry: bytes | None = BEFORE) -> Backup:
    if registry is not None:
        (root / REGISTRY_FILE).parent.mkdir(parents=True)
        (root / REGISTRY_FILE).write_bytes(registry)
        os.chmod(root / REGISTRY_FILE, 0o640)
    return write_backup(root, new_backup_folder(root), default_plan(), {"tools": []})


def _leftovers(root: Path) -> list[str]:
    folders = [(root / REGISTRY_FILE).parent, (root / JOURNAL_FILE).parent]
    return sorted(
        p.name
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
        if p.name.endswith(".tmp")
    )


def test_apply_replaces_the_registry_keeps_its_mode_and_journals_it(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)

    applied = apply_changes(tmp_path, backup)
    again = apply_changes(tmp_path, backup)

    assert (tmp_path / REGISTRY_FILE).read_bytes() == default_plan().target_bytes()
    assert (tmp_path / REGISTRY_FILE).stat().st_mode & 0o777 == 0o640
    assert (applied.changed, again.changed) == (True, False)
    journal = read_journal(tmp_path)
    assert journal is not None
    assert (journal.state, journal.backup_id, journal.before_sha256) == (
        "applied",
        backup.backup_id,
        backup.registry_sha256,
    )


def test_restore_puts_back_the_exact_bytes_and_clears_the_journal(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)
    apply_changes(tmp_path, backup)

    sha = restore_changes(tmp_path, backup)

    assert (tmp_path / REGISTRY_FILE).read_bytes() == BEFORE
    assert (tmp_path / REGISTRY_FILE).stat().st_mode & 0o777 == 0o640
    assert sha == backup.registry_sha256
    assert read_journal(tmp_path) is None


def test_restore_of_a_project_that_had_no_registry_removes_the_file(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path, registry=None)
    apply_changes(tmp_path, backup)

    assert restore_changes(tmp_path, backup) is None
    assert not (tmp_path / REGISTRY_FILE).exists()


def test_apply_refuses_a_registry_changed_since_the_backup(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)
    (tmp_path / REGISTRY_FILE).write_bytes(b'{"version": 1, "groups": ["server_info"]}')

    with pytest.raises(BackupError, match=r"tool-registry\.json changed since backup"):
        apply_changes(tmp_path, backup)
    assert read_journal(tmp_path) is None


def _reset(root: Path) -> None:
    atomic_write(root / REGISTRY_FILE, BEFORE)
    (root / JOURNAL_FILE).unlink(missing_ok=True)


def _forked_apply(root: Path, backup: Backup) -> tuple[int, int]:
    """Fork a child that applies ``backup``'s target; return its pid and a pipe to read.

    Returns once the child has started. The child writes one byte to the pipe when its
    apply has returned (unless it was killed first).
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed or exits at once
        os.write(write, b"x")
        apply_changes(root, backup)
        os.write(write, b"x")
        os._exit(0)
    os.close(write)
    os.read(read, 1)
    return pid, read


def _apply_time(root: Path, backup: Backup) -> float:
    """The median of 5 applies in a forked child, from its start to the apply's return.

    Timed the way the kills see it (a fresh child, scheduled beside whatever else the
    machine runs), not in this process: on a loaded machine a child may wait for a CPU
    longer than the apply takes, and kills timed by the apply alone would all land first.
    """
    times = []
    for _ in range(5):
        pid, read = _forked_apply(root, backup)
        began = time.perf_counter()  # where the kills' sleep starts
        os.read(read, 1)
        times.append(time.perf_counter() - began)
        os.waitpid(pid, 0)
        os.close(read)
        _reset(root)
    return statistics.median(times)


@pytest.mark.slow
def test_sigkill_at_random_points_of_apply_leaves_backup_or_target_and_the_next_run_recovers(
    tmp_path: Path,
) -> None:
    backup = _backed_up(tmp_path)
    target = default_plan().target_bytes()
    window = _apply_time(tmp_path, backup) * 1.3
    rng = random.Random(20251023)
    outcomes: Counter[str] = Counter()
    for _ in range(60):
        _reset(tmp_path)
        pid, read = _forked_apply(tmp_path, backup)
        time.sleep(rng.uniform(0, window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        after_kill = (tmp_path / REGISTRY_FILE).read_bytes()
        assert after_kill in (BEFORE, target)

        recovery = recover(tmp_path)

        outcomes[recovery.outcome] += 1
        expected = target if recovery.outcome == "completed" else BEFORE
        assert (tmp_path / REGISTRY_FILE).read_bytes() == expected == after_kill
        assert _leftovers(tmp_path) == []
        journal = read_journal(tmp_path)
        if recovery.outcome == "completed":
            assert journal is not None
            assert (journal.state, recovery.needs_verification) == ("applied", True)
        else:
            assert journal is None
        assert recover(tmp_path).outcome == (
            "completed" if recovery.outcome == "completed" else "none"
        )
    print(f"outcomes after 60 kills: {dict(outcomes)}; kill window {window * 1000:.2f} ms")
    assert sum(outcomes.values()) == 60
    assert len(outcomes) >= 2


def _journal(root: Path, state: str, backup: Backup, target_sha: str) -> None:
    data = {
        "backup_id": backup.backup_id,
        "state": state,
        "before_sha256": backup.registry_sha256,
        "target_sha256": target_sha,
        "started_at": "2025-01-01T00:00:00+00:00",
    }
    atomic_write(root / JOURNAL_FILE, json_bytes(data))


def test_recover_finishes_an_interrupted_rollback(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)
    applied = apply_changes(tmp_path, backup)
    _journal(tmp_path, "rolling_back", backup, applied.target_sha256)

    recovery = recover(tmp_path)

    assert recovery.outcome == "rolled_back"
    assert "interrupted rollback" in recovery.message
    assert (tmp_path / REGISTRY_FILE).read_bytes() == BEFORE
    assert read_journal(tmp_path) is None


def test_recover_of_a_verified_cutover_needs_no_more_verification(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)
    applied = apply_changes(tmp_path, backup)
    _journal(tmp_path, "verified", backup, applied.target_sha256)

    recovery = recover(tmp_path)

    assert (recovery.outcome, recovery.needs_verification) == ("completed", False)
    assert "already verified" in recovery.message


def test_recover_leaves_a_registry_that_matches_neither_side_to_a_human(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)
    apply_changes(tmp_path, backup)
    (tmp_path / REGISTRY_FILE).write_bytes(b'{"version": 1, "groups": ["server_info"]}')

    with pytest.raises(JournalError, match="match neither the backup nor the target"):
        recover(tmp_path)
    assert (tmp_path / REGISTRY_FILE).read_bytes() == b'{"version": 1, "groups": ["server_info"]}'


def test_an_unreadable_journal_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_FILE).parent.mkdir(parents=True)
    (tmp_path / JOURNAL_FILE).write_text('{"state": "applying"}')

    with pytest.raises(JournalError, match="unreadable"):
        recover(tmp_path)


def test_an_interrupted_rollback_without_its_backup_is_left_to_a_human(tmp_path: Path) -> None:
    backup = _backed_up(tmp_path)
    applied = apply_changes(tmp_path, backup)
    _journal(tmp_path, "rolling_back", backup, applied.target_sha256)
    (backup.path / "manifest.json").unlink()

    with pytest.raises(JournalError, match="cannot be finished"):
        recover(tmp_path)
