"""FileSessionStore: the shared store contract plus what is specific to files."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pos_engine import _file_store
from pos_engine._file_store import FileSessionStore
from pos_engine._models import Session
from pos_engine.exceptions import (
    ConflictError,
    CorruptSessionError,
    InternalError,
    NotFoundError,
    ValidationError,
)
from pos_engine.testing import StoreConformance, StoreFactory, make_session


class TestFileStoreConformance(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        return lambda: FileSessionStore(tmp_path / "state" / "workflows")


class TestFileStoreConformanceNotDurable(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        return lambda: FileSessionStore(tmp_path / "state", durable=False)


def _files(store: FileSessionStore) -> list[str]:
    """Every file under the state folder but the listing's index, as sorted relative paths."""
    root = store.state_dir
    return sorted(
        rel
        for p in root.rglob("*")
        if p.is_file() and not (rel := p.relative_to(root).as_posix()).startswith(".index/")
    )


@pytest.fixture
def store(tmp_path: Path) -> FileSessionStore:
    return FileSessionStore(tmp_path / "state")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _temp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def _increment(session: Session) -> Session:
    session.options["counter"] += 1
    return session


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- layout and permissions ------------------------------------------------------------


def test_from_project_uses_the_praxis_os_state_folder(tmp_path: Path) -> None:
    store = FileSessionStore.from_project(tmp_path)
    assert store.state_dir == tmp_path / ".praxis-os" / "state" / "workflows"
    assert store.kind == "file"
    store.create(make_session("s1"))
    assert (store.state_dir / "s1.json").is_file()


def test_a_relative_state_dir_is_bound_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = FileSessionStore("rel/state")
    monkeypatch.chdir("/")
    store.create(make_session("s1"))
    assert (tmp_path / "rel" / "state" / "s1.json").is_file()


def test_the_folder_it_creates_is_0700_even_under_a_loose_umask(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        store = FileSessionStore(tmp_path / "a" / "b" / "state")
    finally:
        os.umask(old_umask)
    assert _mode(store.state_dir) == 0o700


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o750)
    FileSessionStore(folder)
    assert _mode(folder) == 0o750


def test_a_state_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    with pytest.raises(InternalError) as caught:
        FileSessionStore(tmp_path / "state")
    assert str(tmp_path) not in caught.value.message


def test_session_and_lock_files_are_0600(store: FileSessionStore) -> None:
    old_umask = os.umask(0o000)
    try:
        store.create(make_session("s1"))
        store.update("s1", _increment)
    finally:
        os.umask(old_umask)
    assert _mode(store.state_dir / "s1.json") == 0o600
    assert _mode(store.state_dir / ".locks" / "s1.lock") == 0o600


def test_the_file_holds_compact_json_of_the_stored_session(store: FileSessionStore) -> None:
    stored = store.create(make_session("s1"))
    raw = (store.state_dir / "s1.json").read_bytes()
    assert json.loads(raw) == stored.model_dump(mode="json")
    assert raw == stored.model_dump_json().encode()  # compact, text as UTF-8
    assert '"note":"ünïcode ✓ \\"q\\""'.encode() in raw


def test_a_lone_surrogate_is_stored_escaped(store: FileSessionStore) -> None:
    session = make_session("s1")
    session.options = {"note": "half a pair: \ud800"}
    store.create(session)
    raw = (store.state_dir / "s1.json").read_bytes()
    assert b'"half a pair: \\ud800"' in raw
    assert store.load("s1").options == {"note": "half a pair: \ud800"}


def test_update_uses_a_sidecar_lock_file_that_delete_removes(store: FileSessionStore) -> None:
    store.create(make_session("s1"))
    store.update("s1", _increment)
    assert _files(store) == [".locks/s1.lock", "s1.json"]
    assert store.delete("s1")
    assert _files(store) == []


def test_updating_a_missing_session_leaves_no_lock_file(store: FileSessionStore) -> None:
    with pytest.raises(NotFoundError):
        store.update("ghost", _increment)
    assert _files(store) == []


def test_no_temp_file_remains_after_writes(store: FileSessionStore) -> None:
    store.create(make_session("s1"))
    for _ in range(5):
        store.update("s1", _increment)
    with pytest.raises(ConflictError):
        store.create(make_session("s1"))
    store.create(make_session("s2"))
    store.delete("s2")
    assert _temp_files(store.state_dir) == []
    assert _files(store) == [".locks/s1.lock", "s1.json"]


def test_writes_fsync_only_when_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    fast = FileSessionStore(tmp_path / "fast", durable=False)
    fast.create(make_session("s1"))
    fast.update("s1", _increment)
    fast.delete("s1")
    assert synced == []
    durable = FileSessionStore(tmp_path / "durable")
    durable.create(make_session("s1"))
    assert len(synced) == 2  # the temp file, then the folder
    durable.update("s1", _increment)
    assert len(synced) == 4


# -- temp files ------------------------------------------------------------------------


def test_opening_removes_temp_files_of_dead_writers_and_keeps_live_ones(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    FileSessionStore(folder)
    hour_and_a_bit_ago = time.time() - 3700
    dead = folder / f".s1.{_dead_pid()}.00ff.tmp"
    live = folder / f".s1.{os.getpid()}.0aa0.tmp"
    live_but_old = folder / f".s2.{os.getpid()}.0bb0.tmp"
    not_a_pid = folder / ".s3.0.0cc0.tmp"
    huge_pid = folder / f".s4.{10**30}.0dd0.tmp"
    unrelated = folder / "notes.tmp"
    for path in (dead, live, live_but_old, not_a_pid, huge_pid, unrelated):
        path.write_text("{")
    os.utime(live_but_old, (hour_and_a_bit_ago, hour_and_a_bit_ago))

    FileSessionStore(folder)
    assert sorted(os.listdir(folder)) == sorted([".index", ".locks", live.name, unrelated.name])


def test_a_temp_file_of_another_users_live_process_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "state"
    FileSessionStore(folder)
    (folder / ".s1.4242.00ff.tmp").write_text("{")

    def kill(pid: int, signal: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "kill", kill)
    FileSessionStore(folder)
    assert _temp_files(folder) == [".s1.4242.00ff.tmp"]


def test_a_temp_file_vanishing_during_setup_is_fine(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    (store.state_dir / f".s1.{_dead_pid()}.00ff.tmp").write_text("{")
    real_unlink = os.unlink

    def racing_unlink(path: str) -> None:
        real_unlink(path)
        real_unlink(path)  # as if its writer removed it first

    monkeypatch.setattr(os, "unlink", racing_unlink)
    store.setup()
    monkeypatch.undo()
    assert _temp_files(store.state_dir) == []


def test_a_failed_write_raises_internal_error_and_leaves_no_trace(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store.create(make_session("s1"))

    def disk_full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(store.state_dir / "x.tmp"))

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(InternalError, match="No space left") as caught:
        store.update("s1", _increment)
    assert "s1" in caught.value.message
    assert str(store.state_dir) not in caught.value.message
    with pytest.raises(InternalError):
        store.create(make_session("s2"))
    monkeypatch.undo()
    assert store.load("s1") == before
    assert _files(store) == [".locks/s1.lock", "s1.json"]


def test_a_failed_rename_leaves_no_temp_file(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store.create(make_session("s1"))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InternalError, match="Input/output error"):
        store.update("s1", _increment)
    monkeypatch.undo()
    assert store.load("s1") == before
    assert _temp_files(store.state_dir) == []


# -- corrupt records -------------------------------------------------------------------


def _valid_json(session_id: str) -> bytes:
    return make_session(session_id).model_copy(update={"version": 1}).model_dump_json().encode()


CORRUPT_CONTENTS = {
    "garbage-bytes": b"\x00\xff\xfe\x9c garbage \x81",
    "truncated-json": _valid_json("victim")[:150],
    "empty": b"",
    "not-an-object": b"[1, 2, 3]",
    "fails-the-model": json.dumps(
        {**json.loads(_valid_json("victim")), "status": "exploded", "total_phases": 0}
    ).encode(),
    "missing-fields": b'{"session_id": "victim"}',
    "wrong-id": _valid_json("someone-else"),
}


@pytest.mark.parametrize("content", CORRUPT_CONTENTS.values(), ids=CORRUPT_CONTENTS.keys())
def test_a_corrupt_file_affects_only_its_session(store: FileSessionStore, content: bytes) -> None:
    healthy = store.create(make_session("healthy"))
    store.create(make_session("victim"))
    store.list_summaries()
    (store.state_dir / "victim.json").write_bytes(content)
    store.verify()  # written behind the store's back: seen at the next verification

    for operation in (lambda: store.load("victim"), lambda: store.update("victim", _increment)):
        with pytest.raises(CorruptSessionError) as caught:
            operation()
        error = caught.value
        assert "'victim'" in error.message
        assert str(store.state_dir) not in error.message
        assert str(store.state_dir) not in error.remediation
        assert error.to_dict()["error_type"] == "InternalError"

    assert [s.session_id for s in store.list_summaries()] == ["healthy"]
    assert store.corrupt_ids() == ["victim"]
    assert store.exists("victim")
    assert store.load("healthy") == healthy
    assert store.update("healthy", _increment).version == 2
    with pytest.raises(ConflictError):
        store.create(make_session("victim"))

    assert store.delete("victim")
    assert store.corrupt_ids() == []
    assert [s.session_id for s in store.list_summaries()] == ["healthy"]
    assert store.corrupt_ids() == []


def test_corrupt_messages_say_what_is_wrong(store: FileSessionStore) -> None:
    cases = {
        b"{": "not valid JSON",
        CORRUPT_CONTENTS["fails-the-model"]: "2 problem(s), first at status",
        CORRUPT_CONTENTS["wrong-id"]: "holds session id 'someone-else'",
    }
    for content, expected in cases.items():
        (store.state_dir / "victim.json").write_bytes(content)
        with pytest.raises(CorruptSessionError) as caught:
            store.load("victim")
        assert expected in caught.value.message


def test_an_unreadable_record_is_corrupt(store: FileSessionStore) -> None:
    (store.state_dir / "victim.json").mkdir()  # unreadable even for root
    with pytest.raises(CorruptSessionError, match="not a regular file") as caught:
        store.load("victim")
    assert str(store.state_dir) not in caught.value.message
    assert store.list_summaries() == []
    assert store.corrupt_ids() == ["victim"]


def test_a_repaired_file_is_listed_again(store: FileSessionStore) -> None:
    stored = store.create(make_session("s1"))
    good = (store.state_dir / "s1.json").read_bytes()
    (store.state_dir / "s1.json").write_bytes(b"{broken")
    store.verify()
    assert store.list_summaries() == []
    assert store.corrupt_ids() == ["s1"]
    (store.state_dir / "s1.json").write_bytes(good)
    store.verify()
    assert store.list_summaries() == [stored.summary()]
    assert store.corrupt_ids() == []


# -- the listing index -----------------------------------------------------------------


def test_listing_ignores_files_that_are_not_session_records(store: FileSessionStore) -> None:
    stored = store.create(make_session("s1"))
    for name in ("README.txt", "Upper.json", ".hidden.json", "s2.lock", "x.json.bak", ".json"):
        (store.state_dir / name).write_bytes(_valid_json("s2"))
    (store.state_dir / "folder").mkdir()
    store.verify()
    assert store.list_summaries() == [stored.summary()]
    assert store.corrupt_ids() == []


def test_a_verification_sees_a_file_edited_in_place(store: FileSessionStore) -> None:
    store.create(make_session("s1"))
    assert store.list_summaries()[0].status == "active"
    path = store.state_dir / "s1.json"
    record = json.loads(path.read_bytes())
    record |= {"status": "paused", "options": {"padding": "x" * 100}}
    with open(path, "r+b") as f:  # same inode, new size
        f.write(json.dumps(record).encode())
        f.truncate()
    store.verify()
    assert [s.status for s in store.list_summaries()] == ["paused"]
    assert store.count_by_status()["paused"] == 1


def test_a_new_instance_sees_records_changed_while_no_store_was_open(tmp_path: Path) -> None:
    first = FileSessionStore(tmp_path / "state")
    first.create(make_session("s1"))
    first.list_summaries()
    first.close()
    (tmp_path / "state" / "s2.json").write_bytes(_valid_json("s2"))  # restored from a backup
    (tmp_path / "state" / "s1.json").unlink()
    assert [s.session_id for s in FileSessionStore(tmp_path / "state").list_summaries()] == ["s2"]


def test_listings_verify_the_records_on_a_timer(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path / "state", verify_seconds=60)
    now = [1000.0]
    store._index._clock = lambda: now[0]
    store.create(make_session("s1"))
    assert [s.session_id for s in store.list_summaries()] == ["s1"]
    (tmp_path / "state" / "s2.json").write_bytes(_valid_json("s2"))
    now[0] += 59
    assert [s.session_id for s in store.list_summaries()] == ["s1"]
    now[0] += 1
    assert sorted(s.session_id for s in store.list_summaries()) == ["s1", "s2"]


def test_a_listing_reads_no_record_a_store_wrote(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(5):
        store.create(make_session(f"s{index}"))
    other = FileSessionStore(store.state_dir)
    reads: list[str] = []
    real_read = _file_store._read_summary

    def counting_read(path: str, session_id: str) -> object:
        reads.append(session_id)
        return real_read(path, session_id)

    monkeypatch.setattr(_file_store, "_read_summary", counting_read)
    assert len(store.list_summaries()) == 5
    assert len(other.list_summaries()) == 5
    store.update("s3", _increment)
    other.delete("s1")
    assert [s.session_id for s in store.list_summaries()] == ["s4", "s3", "s2", "s0"]
    assert [s.session_id for s in other.list_summaries()] == ["s4", "s3", "s2", "s0"]
    assert reads == []  # the change log told both instances everything


def test_a_listing_scans_no_folder_between_verifications(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create(make_session("s1"))
    store.list_summaries()  # the first listing of an instance checks every record once
    scans: list[object] = []
    real_scandir = os.scandir

    def counting_scandir(path: str) -> object:
        scans.append(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    other = FileSessionStore(store.state_dir)
    scans.clear()  # other's setup looks for stale temp files
    for index in range(3):
        other.create(make_session(f"n{index}"))
        assert len(store.list_summaries()) == index + 2
        store.list_page(limit=1)
        store.count_by_status()
    assert scans == []


def test_files_vanishing_during_a_scan_are_left_out(
    store: FileSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = store.create(make_session("kept"))
    for session_id in ("gone-before-stat", "gone-before-read"):
        (store.state_dir / f"{session_id}.json").write_bytes(_valid_json(session_id))
    real_scandir = os.scandir

    class Vanishing:
        def __init__(self, entry: os.DirEntry[str]) -> None:
            self.entry, self.name, self.path = entry, entry.name, entry.path

        def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
            if self.name == "gone-before-stat.json":
                os.unlink(self.path)
            result = self.entry.stat(follow_symlinks=follow_symlinks)
            if self.name == "gone-before-read.json":
                os.unlink(self.path)
            return result

    class Scan:
        def __init__(self, path: str) -> None:
            self.scan = real_scandir(path)

        def __enter__(self) -> list[Vanishing]:
            return [Vanishing(entry) for entry in self.scan]

        def __exit__(self, *exc: object) -> None:
            self.scan.close()

    monkeypatch.setattr(os, "scandir", Scan)
    assert store.list_summaries() == [kept.summary()]
    monkeypatch.undo()
    assert store.corrupt_ids() == []
    assert store.list_summaries() == [kept.summary()]


def test_summaries_of_many_sessions_match_their_sessions(tmp_path: Path) -> None:
    writer = FileSessionStore(tmp_path / "state", durable=False)
    sessions = [
        writer.create(
            make_session(
                f"s{index:03d}",
                status=("active", "paused", "completed", "failed")[index % 4],
                created_at=f"2025-01-01T00:00:{index % 60:02d}.000000+00:00",
            )
        )
        for index in range(120)
    ]
    reader = FileSessionStore(tmp_path / "state")
    expected = sorted(
        (s.summary() for s in sessions), key=lambda s: (s.created_at, s.session_id), reverse=True
    )
    assert reader.list_summaries() == expected
    assert reader.list_summaries("failed") == [s for s in expected if s.status == "failed"]
    assert reader.count_by_status() == {
        "active": 30,
        "paused": 30,
        "completed": 30,
        "failed": 30,
        "awaiting_approval": 0,
    }


# -- id validation ---------------------------------------------------------------------

BAD_IDS = ["../escape", "a/b", "", "UPPER", ".hidden", "-dash", "a" * 129, "ok\n", "a.json", "é"]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_an_invalid_id_is_refused_before_touching_the_disk(
    store: FileSessionStore, bad_id: str
) -> None:
    operations = [
        lambda: store.load(bad_id),
        lambda: store.update(bad_id, _increment),
        lambda: store.delete(bad_id),
        lambda: store.exists(bad_id),
        lambda: store.create(make_session("ok").model_copy(update={"session_id": bad_id})),
    ]
    for operation in operations:
        with pytest.raises(ValidationError, match="session id") as caught:
            operation()
        assert caught.value.details == {"parameter": "session_id"}
    assert _files(store) == []
    assert os.listdir(store.state_dir.parent) == ["state"]


def test_the_longest_valid_id_works(store: FileSessionStore) -> None:
    longest = "a" * 128
    store.create(make_session(longest))
    assert store.load(longest).session_id == longest


def test_an_updater_may_not_change_the_session_id(store: FileSessionStore) -> None:
    before = store.create(make_session("s1"))

    def rename(session: Session) -> Session:
        session.session_id = "s2"
        return session

    with pytest.raises(ValidationError, match="changed its id"):
        store.update("s1", rename)
    assert store.load("s1") == before
    assert not store.exists("s2")


# -- locking ---------------------------------------------------------------------------


@pytest.mark.parametrize("replaced", [False, True], ids=["lock-file-gone", "lock-file-replaced"])
def test_an_update_waiting_on_a_deleted_lock_file_starts_over(
    store: FileSessionStore, replaced: bool
) -> None:
    store.create(make_session("s1"))
    inside, release = threading.Event(), threading.Event()
    results: list[int] = []

    def slow(session: Session) -> Session:
        inside.set()
        assert release.wait(10)
        return _increment(session)

    first = threading.Thread(target=lambda: results.append(store.update("s1", slow).version))
    second = threading.Thread(target=lambda: results.append(store.update("s1", _increment).version))
    first.start()
    assert inside.wait(10)
    second.start()
    time.sleep(0.2)  # let the second update open the lock file and block on it
    os.unlink(store.state_dir / ".locks" / "s1.lock")  # as delete() does while holding it
    if replaced:
        (store.state_dir / ".locks" / "s1.lock").touch()  # as a third writer opening it would
    release.set()
    first.join()
    second.join()
    assert sorted(results) == [2, 3]
    assert store.load("s1").options["counter"] == 2


def test_delete_waits_for_a_running_update(store: FileSessionStore) -> None:
    store.create(make_session("s1"))
    inside, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def slow(session: Session) -> Session:
        inside.set()
        assert release.wait(10)
        return _increment(session)

    updater = threading.Thread(target=lambda: outcome.append(store.update("s1", slow).version))
    updater.start()
    assert inside.wait(10)
    deleter = threading.Thread(target=lambda: outcome.append(store.delete("s1")))
    deleter.start()
    time.sleep(0.1)
    assert outcome == []  # the delete is blocked on the lock
    release.set()
    updater.join()
    deleter.join()
    assert outcome == [2, True]
    assert not store.exists("s1")
    assert _files(store) == []
