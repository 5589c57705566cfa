"""copy_sessions and snapshots between file stores: ids, versions, checksums, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pos_engine import (
    CopyConflict,
    FileSessionStore,
    RestoreReport,
    Session,
    SessionSnapshot,
    ValidationError,
    copy_sessions,
    sessions_checksum,
)
from pos_engine.testing import make_session


def _bump(session: Session) -> Session:
    session.options["counter"] += 1
    return session


@pytest.fixture
def source(tmp_path: Path) -> FileSessionStore:
    store = FileSessionStore(tmp_path / "source", durable=False)
    for index in range(7):
        store.create(make_session(f"s{index}", created_at=f"2025-01-0{index + 1}T00:00:00+00:00"))
    store.update("s3", _bump)
    return store


@pytest.fixture
def target(tmp_path: Path) -> FileSessionStore:
    return FileSessionStore(tmp_path / "target", durable=False)


def test_a_copy_keeps_ids_and_versions_and_its_checksums_match(
    source: FileSessionStore, target: FileSessionStore
) -> None:
    batches: list[int] = []
    report = copy_sessions(
        source, target, batch_size=3, progress=lambda r: batches.append(r.copied)
    )

    assert (report.source_sessions, report.copied, report.unchanged, report.conflicts) == (
        7,
        7,
        0,
        [],
    )
    assert batches == [3, 6, 7]
    assert report.verified
    assert report.source_checksum == report.target_checksum
    assert report.source_checksum == sessions_checksum(
        source.load_many([s.session_id for s in source.list_summaries()])[0].values()
    )
    assert target.list_summaries() == source.list_summaries()
    assert target.load("s3") == source.load("s3")
    assert target.load("s3").version == 2


def test_copying_again_copies_nothing_new(
    source: FileSessionStore, target: FileSessionStore
) -> None:
    first = copy_sessions(source, target)
    again = copy_sessions(source, target)

    assert (again.copied, again.unchanged, again.replaced, again.conflicts) == (0, 7, 0, [])
    assert again.verified
    assert again.target_checksum == first.target_checksum


def test_a_differing_target_record_is_reported_not_overwritten(
    source: FileSessionStore, target: FileSessionStore
) -> None:
    copy_sessions(source, target)
    target.update("s2", _bump)
    source.update("s5", _bump)
    source.create(make_session("s9", created_at="2025-02-01T00:00:00+00:00"))

    report = copy_sessions(source, target)

    assert report.conflicts == [
        CopyConflict("s5", source_version=2, target_version=1),
        CopyConflict("s2", source_version=1, target_version=2),
    ]
    assert (report.copied, report.unchanged, report.replaced) == (1, 5, 0)
    assert not report.verified
    assert target.load("s2").version == 2
    assert target.load("s5").version == 1


def test_overwrite_replaces_differing_records_and_verifies(
    source: FileSessionStore, target: FileSessionStore
) -> None:
    copy_sessions(source, target)
    target.update("s2", _bump)

    report = copy_sessions(source, target, overwrite=True)

    assert (report.replaced, report.unchanged, report.conflicts) == (1, 6, [])
    assert report.verified
    assert target.load("s2") == source.load("s2")


def test_unreadable_source_records_are_reported_and_skipped(
    source: FileSessionStore, target: FileSessionStore
) -> None:
    (source.state_dir / "s4.json").write_text("{not json", encoding="utf-8")
    (target.state_dir / "s1.json").write_text("[]", encoding="utf-8")

    report = copy_sessions(source, target)

    assert report.unreadable == ["s4"]
    assert report.conflicts == [CopyConflict("s1", source_version=1, target_version=None)]
    assert report.source_sessions == 6
    assert not target.exists("s4")


def test_a_snapshot_skips_unreadable_records_and_restore_leaves_them(
    source: FileSessionStore,
) -> None:
    (source.state_dir / "s4.json").write_text("{not json", encoding="utf-8")
    snapshot = source.snapshot(["s4", "s5"])
    assert snapshot.unreadable == ("s4",)
    assert list(snapshot.records) == ["s5"]

    source.update("s5", _bump)
    assert source.restore(snapshot) == RestoreReport(restored=["s5"])
    assert (source.state_dir / "s4.json").read_text(encoding="utf-8") == "{not json"


def test_a_snapshot_restores_an_unreadable_record_it_recorded_as_absent(
    source: FileSessionStore,
) -> None:
    snapshot = source.snapshot(["new"])
    (source.state_dir / "new.json").write_text("garbage", encoding="utf-8")
    assert source.restore(snapshot) == RestoreReport(deleted=["new"])
    assert not source.exists("new")


@pytest.mark.parametrize(
    "data",
    [None, [], {"format": "other"}, {"format": "pos-session-snapshot", "version": 1}],
)
def test_data_that_is_not_a_snapshot_is_refused(data: object) -> None:
    with pytest.raises(ValidationError, match="snapshot"):
        SessionSnapshot.from_dict(data)


def test_a_snapshot_of_another_format_version_is_refused(source: FileSessionStore) -> None:
    data = source.snapshot(["s1"]).to_dict()
    data["version"] = 2
    with pytest.raises(ValidationError, match="version 2 is not supported"):
        SessionSnapshot.from_dict(data)


def test_a_snapshot_record_filed_under_another_id_is_refused(source: FileSessionStore) -> None:
    data = source.snapshot(["s1"]).to_dict()
    data["records"]["s2"] = data["records"].pop("s1")
    with pytest.raises(ValidationError, match="checksum"):
        SessionSnapshot.from_dict(data)
