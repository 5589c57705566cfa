"""The file store's shared change log: what each process sees, after crashes and compactions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pos_engine import _file_index
from pos_engine._file_index import abort_entry, put_entry, signature
from pos_engine._file_listing import values_of
from pos_engine._file_store import FileSessionStore
from pos_engine._models import Session
from pos_engine._nonblocking import WouldBlock, nonblocking
from pos_engine.testing import make_session


def _ids(store: FileSessionStore, **page: object) -> list[str]:
    return [s.session_id for s in store.list_page(**page).summaries]  # type: ignore[arg-type]


def _dated(session_id: str, second: int, **overrides: object) -> Session:
    return make_session(
        session_id, created_at=f"2025-01-01T00:00:{second:02d}.000000+00:00", **overrides
    )


def _log(store: FileSessionStore) -> Path:
    return store.state_dir / ".index" / "log"


def _preamble(store: FileSessionStore) -> dict[str, object]:
    with _log(store).open("rb") as f:
        return json.loads(f.readline())  # type: ignore[no-any-return]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "state"


def _loads(monkeypatch: pytest.MonkeyPatch, store: FileSessionStore) -> list[object]:
    """Count how often the store's index reads a whole log (header and all)."""
    calls: list[object] = []
    real = _file_index.FileIndex._load

    def counting(self: _file_index.FileIndex) -> bool:
        if self is store._index:
            calls.append(self)
        return real(self)

    monkeypatch.setattr(_file_index.FileIndex, "_load", counting)
    return calls


def test_an_entry_whose_write_never_happened_changes_nothing(folder: Path) -> None:
    store = FileSessionStore(folder)
    stored = store.create(_dated("s1", 1))
    # A writer that died between its entry and its rename: the entry names a file that
    # never replaced the record.
    ghost = stored.model_copy(update={"status": "completed"})
    store._index.append(put_entry("s1", (1, 2, 3), values_of(ghost.summary())))
    store._index.append(put_entry("s2", (4, 5, 6), values_of(_dated("s2", 2).summary())))
    assert store.list_page().summaries == [stored.summary()]
    assert FileSessionStore(folder).list_page().summaries == [stored.summary()]
    # Compaction settles such entries for good: they are not carried into the new log.
    assert store._index.compact()
    assert store._index._pending == {}
    assert FileSessionStore(folder)._index._pending == {}
    assert store.list_page().summaries == [stored.summary()]


def test_an_aborted_entry_is_forgotten(folder: Path) -> None:
    store = FileSessionStore(folder)
    store.list_page()
    summary = values_of(_dated("s1", 1).summary())
    store._index.append(put_entry("s1", (1, 2, 3), summary))
    store._index.append(abort_entry("s1", (1, 2, 3)))
    assert store.list_page().summaries == []
    assert store._index._pending == {}


def test_a_write_in_flight_is_listed_once_its_record_is_in_place(folder: Path) -> None:
    store = FileSessionStore(folder)
    reader = FileSessionStore(folder)
    old = store.create(_dated("s1", 1))
    assert reader.list_page().summaries == [old.summary()]
    new = old.model_copy(update={"status": "paused", "version": 2})
    tmp, sig, _ = store._write_temp(new)
    store._index.append(put_entry("s1", sig, values_of(new.summary())))
    assert reader.list_page().summaries == [old.summary()]  # entry read, record not replaced yet
    os.replace(tmp, folder / "s1.json")
    assert reader.list_page().summaries == [new.summary()]


def test_a_torn_entry_hides_none_of_those_after_it(folder: Path) -> None:
    store = FileSessionStore(folder)
    store.create(_dated("s1", 1))
    with _log(store).open("ab") as f:
        f.write(b'\x1e{"o":"p","i":"s9","g":[1,')  # a writer that stopped mid-append
    second = store.create(_dated("s2", 2))
    assert _ids(FileSessionStore(folder)) == ["s2", "s1"]
    assert second.summary() in store.list_page().summaries


def test_entries_naming_no_valid_id_are_ignored(folder: Path) -> None:
    store = FileSessionStore(folder)
    (folder.parent / "outside.json").write_text(json.dumps({"session_id": "../outside"}))
    for bad in ("../outside", "UP", "", 7):
        store._index.append({"o": "p", "i": bad, "g": [1, 2, 3], "v": []})
    assert store.list_page().summaries == []
    assert store.corrupt_ids() == []


def test_writes_compact_the_log_and_other_readers_follow_without_rereading_it(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_file_index, "COMPACT_MIN_BYTES", 2048)
    writer = FileSessionStore(folder)
    reader = FileSessionStore(folder)
    reader.list_page()
    loads = _loads(monkeypatch, reader)
    first_log = _preamble(writer)["id"]
    for index in range(40):
        writer.create(_dated(f"s{index:02d}", index % 60))
        assert reader.list_page(limit=1).total == index + 1
    assert _preamble(writer)["id"] != first_log
    assert _preamble(writer)["prev"] is not None
    assert _log(writer).stat().st_size < 40 * 300  # compacted: not one entry per write
    assert loads == []  # the reader continued in each new log from where it was
    expected = [f"s{index:02d}" for index in reversed(range(40))]
    assert _ids(reader, limit=100) == expected
    assert _ids(FileSessionStore(folder), limit=100) == expected


def test_a_reader_that_missed_a_whole_log_reads_the_new_one(folder: Path) -> None:
    store = FileSessionStore(folder)
    reader = FileSessionStore(folder)
    store.create(_dated("s1", 1))
    assert _ids(reader) == ["s1"]
    store.create(_dated("s2", 2))
    assert store._index.compact()
    store.create(_dated("s3", 3))
    assert store._index.compact()  # the reader never saw the log in between
    assert _ids(reader) == ["s3", "s2", "s1"]


def test_a_deleted_index_is_rebuilt_from_the_records(folder: Path) -> None:
    store = FileSessionStore(folder)
    store.create(_dated("s1", 1))
    for path in (folder / ".index").iterdir():
        path.unlink()
    store.create(_dated("s2", 2))  # the write rebuilds the log before appending to it
    assert _ids(store) == ["s2", "s1"]
    assert _ids(FileSessionStore(folder)) == ["s2", "s1"]


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage\n", b'{"format": 99}\n', b'{"format":1,"id":"x","header_bytes":3}\n[]\n'],
)
def test_an_unreadable_log_is_rebuilt_from_the_records(folder: Path, content: bytes) -> None:
    FileSessionStore(folder).create(_dated("s1", 1))
    _log(FileSessionStore(folder)).write_bytes(content)
    assert _ids(FileSessionStore(folder)) == ["s1"]


def test_a_log_from_another_boot_is_checked_against_the_records_and_rebased(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSessionStore(folder)
    store.create(_dated("s1", 1))
    monkeypatch.setattr(_file_index, "_BOOT_ID", "a-later-boot")
    (folder / "s2.json").write_bytes(
        _dated("s2", 2).model_copy(update={"version": 1}).model_dump_json().encode()
    )  # reached the disk, while its entry did not (a power loss)
    assert _ids(FileSessionStore(folder, verify_seconds=None)) == ["s2", "s1"]
    assert _preamble(store)["boot"] == "a-later-boot"


@pytest.mark.slow
def test_a_memory_only_listing_reads_a_short_tail_but_not_a_long_one(folder: Path) -> None:
    store = FileSessionStore(folder)
    reader = FileSessionStore(folder)
    reader.list_page()
    store.create(_dated("s1", 1))
    with nonblocking():
        assert _ids(reader) == ["s1"]
    unread = _log(store).stat().st_size
    index = 1
    while _log(store).stat().st_size - unread <= _file_index.INLINE_TAIL_BYTES:
        index += 1
        store.create(_dated(f"s{index}", index % 60))
    with nonblocking(), pytest.raises(WouldBlock):
        reader.list_page()
    assert reader.list_page().total == index
    with nonblocking():
        assert reader.list_page().total == index


def test_a_memory_only_listing_never_verifies_or_loads(folder: Path) -> None:
    store = FileSessionStore(folder)
    store.create(_dated("s1", 1))
    with nonblocking(), pytest.raises(WouldBlock):
        FileSessionStore(folder).list_page()  # a new instance must load the log first


def test_signatures_survive_the_rename_into_place(folder: Path) -> None:
    store = FileSessionStore(folder)
    stored = store.create(_dated("s1", 1))
    tmp, sig, _ = store._write_temp(stored.model_copy(update={"version": 2}))
    os.replace(tmp, folder / "s1.json")
    assert signature(os.stat(folder / "s1.json")) == sig
