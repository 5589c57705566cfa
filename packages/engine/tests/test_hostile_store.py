"""Hostile entries in the session state folder cost that one session, never the server.

Also the durability contract, tested by order rather than by counting: the temp file
is synced before it replaces the record, and the folder after the rename.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_engine import CorruptSessionError, LimitError
from pos_engine import _file_store as file_store_module
from pos_engine._file_store import FileSessionStore
from pos_engine.testing import make_session
from pos_engine.testing.deadline import deadline


@pytest.fixture
def store(tmp_path: Path) -> FileSessionStore:
    return FileSessionStore(tmp_path / "state", durable=True)


def plant(store: FileSessionStore, name: str, make: Callable[[Path], Any]) -> Path:
    path = store.state_dir / name
    make(path)
    return path


@pytest.mark.parametrize(
    ("kind", "make", "problem"),
    [
        pytest.param(
            "link to /dev/zero", lambda p: p.symlink_to("/dev/zero"), "symbolic link", id="zero"
        ),
        pytest.param(
            "link to a file", lambda p: p.symlink_to("/etc/hostname"), "symbolic link", id="link"
        ),
        pytest.param("fifo", os.mkfifo, "not a regular file", id="fifo"),
    ],
)
def test_a_planted_session_file_is_reported_not_read(
    store: FileSessionStore, kind: str, make: Callable[[Path], Any], problem: str
) -> None:
    store.create(make_session("good"))
    plant(store, "evil.json", make)

    with deadline(10):
        listed = [s.session_id for s in store.list_summaries()]
        corrupt = store.corrupt_ids()
        with pytest.raises(CorruptSessionError, match=problem):
            store.load("evil")

    assert (kind, listed, corrupt) == (kind, ["good"], ["evil"])


def test_a_dangling_lock_link_never_creates_a_file_outside(
    store: FileSessionStore, tmp_path: Path
) -> None:
    store.create(make_session("victim"))
    outside = tmp_path / "outside" / "created-by-the-server"
    outside.parent.mkdir()
    lock = store.state_dir / ".locks" / "victim.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(outside)

    updated = store.update("victim", lambda s: s.model_copy(update={"checkpoint_note": "x"}))

    assert updated.version == 2
    assert not outside.exists()
    assert stat.S_ISREG(lock.lstat().st_mode)


def test_a_lock_that_is_a_fifo_is_replaced(store: FileSessionStore) -> None:
    store.create(make_session("victim"))
    lock = store.state_dir / ".locks" / "victim.lock"
    lock.unlink(missing_ok=True)
    os.mkfifo(lock)

    with deadline(10):
        updated = store.update("victim", lambda s: s.model_copy(update={"checkpoint_note": "x"}))

    assert updated.version == 2
    assert stat.S_ISREG(lock.lstat().st_mode)


def test_a_record_over_the_size_limit_is_refused_and_nothing_changes(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create(make_session("big"))
    monkeypatch.setattr(file_store_module, "MAX_RECORD_BYTES", 4096)

    with pytest.raises(LimitError, match="nothing was written"):
        store.update("big", lambda s: s.model_copy(update={"options": {"blob": "x" * 8192}}))

    assert store.load("big").version == 1


def test_an_oversized_record_on_disk_is_corrupt_not_read(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create(make_session("big", options={"blob": "x" * 8192}))
    monkeypatch.setattr(file_store_module, "MAX_RECORD_BYTES", 4096)

    with pytest.raises(CorruptSessionError, match="bytes allowed"):
        store.load("big")


def test_a_deeply_nested_record_is_corrupt(store: FileSessionStore) -> None:
    plant(store, "deep.json", lambda p: p.write_text("[" * 5000 + "]" * 5000))

    with pytest.raises(CorruptSessionError, match="not valid JSON"):
        store.load("deep")
    assert store.list_summaries() == []
    assert store.corrupt_ids() == ["deep"]


class SyscallLog:
    """Records fsync, replace and link calls with what they touched, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, Any]] = []
        real_fsync, real_replace, real_link = os.fsync, os.replace, os.link

        def fsync(fd: int) -> None:
            st = os.fstat(fd)
            self.events.append(
                ("fsync-dir" if stat.S_ISDIR(st.st_mode) else "fsync-file", st.st_ino)
            )
            real_fsync(fd)

        def replace(src: str, dst: str) -> None:
            self.events.append(("replace", os.stat(src).st_ino))
            real_replace(src, dst)

        def link(src: str, dst: str) -> None:
            self.events.append(("link", os.stat(src).st_ino))
            real_link(src, dst)

        monkeypatch.setattr(file_store_module.os, "fsync", fsync)
        monkeypatch.setattr(file_store_module.os, "replace", replace)
        monkeypatch.setattr(file_store_module.os, "link", link)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


@pytest.mark.parametrize("operation", ["create", "update"])
def test_the_data_file_is_synced_before_the_rename_and_the_folder_after(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    if operation == "update":
        store.create(make_session("durable"))
    log = SyscallLog(monkeypatch)

    if operation == "create":
        store.create(make_session("durable"))
    else:
        store.update("durable", lambda s: s.model_copy(update={"checkpoint_note": "x"}))

    record_inode = (store.state_dir / "durable.json").stat().st_ino
    move = "link" if operation == "create" else "replace"
    assert log.kinds() == ["fsync-file", move, "fsync-dir"]
    # The file synced is the one renamed into place, which is the record now.
    assert log.events[0][1] == log.events[1][1] == record_inode


@pytest.mark.slow
def test_the_gate_is_evaluated_before_the_session_lock_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pos_engine import WorkflowEngine  # noqa: PLC0415
    from pos_engine import _gates as gates_module  # noqa: PLC0415
    from pos_engine.testing.drive import example_evidence  # noqa: PLC0415

    engine = WorkflowEngine.for_project(tmp_path, durable=False)
    started = engine.start_workflow("test_generation_v3", "src/a.py")
    sid = started["session_id"]
    locked: list[bool] = []
    in_lock = [False]
    real_update, real_evaluate = engine.store.update, gates_module.evaluate_evidence

    def update(session_id: str, updater: Any) -> Any:
        def inside(session: Any) -> Any:
            in_lock[0] = True
            try:
                return updater(session)
            finally:
                in_lock[0] = False

        return real_update(session_id, inside)

    def evaluate(checkpoint: Any, evidence: Any) -> Any:
        locked.append(in_lock[0])
        return real_evaluate(checkpoint, evidence)

    monkeypatch.setattr(engine.store, "update", update)
    monkeypatch.setattr(gates_module, "evaluate_evidence", evaluate)

    failed = engine.complete_phase(sid, 1, {"code_structure": {}})
    engine.retry_phase(sid, 1)
    passed = engine.complete_phase(sid, 1, example_evidence(started))

    assert (failed["checkpoint_passed"], passed["checkpoint_passed"]) == (False, True)
    assert locked == [False, False]
