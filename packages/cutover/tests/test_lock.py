"""The cutover lock: one cutover per project, released however its holder ends."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover import LOCK_FILE, CutoverBusyError, CutoverLock, lock_holder


def test_a_second_holder_is_refused_with_the_first_ones_pid_and_command(tmp_path: Path) -> None:
    with CutoverLock(tmp_path, "run") as first:
        assert first.held
        with pytest.raises(CutoverBusyError) as caught:
            CutoverLock(tmp_path, "rollback").acquire()
        holder = lock_holder(tmp_path)

    assert caught.value.holder == holder
    assert holder is not None
    assert (holder["pid"], holder["command"]) == (os.getpid(), "run")
    assert f"pid {os.getpid()} ('run'" in caught.value.message
    assert lock_holder(tmp_path) is None


def test_the_lock_is_free_again_when_its_holder_is_killed(tmp_path: Path) -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed
        CutoverLock(tmp_path, "apply").acquire()
        os.write(write, b"x")
        signal.pause()
    os.read(read, 1)
    held_by_child = lock_holder(tmp_path)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

    assert held_by_child is not None
    assert held_by_child["pid"] == pid
    assert lock_holder(tmp_path) is None
    with CutoverLock(tmp_path, "run"):
        pass


def test_the_lock_refuses_a_second_concurrent_cutover(demo: Path, cli: Callable[..., Any]) -> None:
    with CutoverLock(demo, "run"):
        second = subprocess.run(
            [sys.executable, "-m", "pos_cutover", "run", "--project", str(demo), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        in_process = cli("rollback", "--project", str(demo))

    assert second.returncode == 5
    assert '"outcome": "busy"' in second.stdout
    assert "another cutover is running on this project" in second.stderr
    assert in_process.code == 5


def test_a_missing_lock_file_means_nobody_holds_the_lock(tmp_path: Path) -> None:
    assert lock_holder(tmp_path) is None


def test_the_lock_file_is_removed_when_the_lock_is_released(tmp_path: Path) -> None:
    with CutoverLock(tmp_path, "run"):
        assert (tmp_path / LOCK_FILE).is_file()

    assert not (tmp_path / LOCK_FILE).exists()
    assert lock_holder(tmp_path) is None


def test_a_locker_that_locked_a_file_removed_meanwhile_starts_over_on_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / LOCK_FILE
    path.parent.mkdir()
    path.write_text("")
    real = fcntl.flock
    calls: list[int] = []

    def racing(fd: int, operation: int) -> None:
        if not calls:  # the previous holder removes the file between our open and our flock
            path.unlink()
        calls.append(operation)
        real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", racing)
    lock = CutoverLock(tmp_path, "run")
    lock.acquire()
    try:
        assert path.is_file()
        assert lock_holder(tmp_path) == {**(lock_holder(tmp_path) or {}), "command": "run"}
    finally:
        lock.release()
    assert calls[:2] == [fcntl.LOCK_EX | fcntl.LOCK_NB] * 2
