# ruff: noqa: S101 - this module is test code shipped in the package; pytest rewrites its asserts
"""The behaviour every :class:`~pos_engine._store.SessionStore` backend must show.

Reuse it from a backend's test module by subclassing under a ``Test`` name and
providing a ``store_factory`` fixture: a callable that returns a new, set-up store
instance bound to the same fresh, empty backend each time it is called::

    class TestFileStoreConformance(StoreConformance):
        @pytest.fixture
        def store_factory(self, tmp_path: Path) -> StoreFactory:
            return lambda: FileSessionStore(tmp_path / "sessions")

The suite derives ``store`` and ``second_store`` (two instances on one backend,
as two server processes would see it) from that factory.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .._audit import append_entry
from .._models import SESSION_STATUSES, ApprovalRecord, PhaseAttempt, Session, utc_now
from .._paging import SessionPage
from .._snapshot import RestoreReport, SessionSnapshot
from .._store import SessionStore
from ..exceptions import ConflictError, NotFoundError, StateError, ValidationError

__all__ = ["StoreConformance", "StoreFactory", "make_session"]

StoreFactory = Callable[[], SessionStore]
"""Returns a new, set-up store instance; every call is bound to the same backend."""


def make_session(session_id: str = "sess-0001", **overrides: Any) -> Session:
    """Build a valid session with nested parts, changing any field by keyword.

    Args:
        session_id: The id of the session.
        **overrides: Session fields to set instead of the defaults (validated).
    """
    now = utc_now()
    fields: dict[str, Any] = {
        "session_id": session_id,
        "workflow_type": "test_generation_v3",
        "workflow_version": "1.2.0",
        "target_file": "src/app/example.py",
        "start_phase": 0,
        "current_phase": 1,
        "total_phases": 4,
        "completed_phases": [0],
        "created_at": now,
        "updated_at": now,
        "options": {"counter": 0, "strict": True},
        "evidence": {"0": {"tests_written": 3, "coverage": 87.5, "note": 'ünïcode ✓ "q"'}},
        "phase_history": [
            PhaseAttempt(phase=0, attempt=1, started_at=now, completed_at=now, status="passed"),
            PhaseAttempt(phase=1, attempt=1, started_at=now),
        ],
    }
    fields.update(overrides)
    return Session.model_validate(fields)


def _increment(session: Session) -> Session:
    session.options["counter"] += 1
    return session


class StoreConformance:
    """Store behaviour tests; subclass as ``Test...`` and provide ``store_factory``."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Overridden by each backend's test class."""
        pytest.fail("a StoreConformance subclass must define a store_factory fixture")

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> Iterator[SessionStore]:
        """A set-up store on a fresh, empty backend."""
        store = store_factory()
        yield store
        store.close()

    @pytest.fixture
    def second_store(self, store_factory: StoreFactory) -> Iterator[SessionStore]:
        """Another instance on the same backend as ``store``."""
        store = store_factory()
        yield store
        store.close()

    # -- create and load -----------------------------------------------------------------

    def test_a_new_store_is_empty(self, store: SessionStore) -> None:
        assert store.list_summaries() == []
        assert store.corrupt_ids() == []
        assert store.count_by_status() == {
            "active": 0,
            "paused": 0,
            "completed": 0,
            "failed": 0,
            "awaiting_approval": 0,
        }

    def test_setup_is_idempotent_and_keeps_sessions(self, store: SessionStore) -> None:
        store.create(make_session("kept"))
        store.setup()
        store.setup()
        assert store.load("kept").version == 1

    def test_create_stores_version_1_without_changing_its_argument(
        self, store: SessionStore
    ) -> None:
        session = make_session("s1", version=7)
        stored = store.create(session)
        assert stored == session.model_copy(update={"version": 1})
        assert session.version == 7

    def test_create_then_load_returns_an_equal_session(self, store: SessionStore) -> None:
        stored = store.create(make_session("s1"))
        assert store.load("s1") == stored

    def test_an_approval_and_an_audit_trail_round_trip_and_are_counted(
        self, store: SessionStore
    ) -> None:
        session = make_session("s1", status="awaiting_approval")
        now = utc_now()
        append_entry(session, "started", at=now, phase=1)
        session.approval = ApprovalRecord(
            phase=1, prompt="Review it.", requested_at=now, evidence_sha256="0" * 64
        )
        append_entry(session, "checkpoint", at=now, phase=1, data={"outcome": "awaiting"})
        stored = store.create(session)
        loaded = store.load("s1")
        assert loaded == stored
        assert (loaded.approval, loaded.audit) == (session.approval, session.audit)
        assert [s.session_id for s in store.list_summaries("awaiting_approval")] == ["s1"]
        assert store.count_by_status()["awaiting_approval"] == 1
        assert [e.prev for e in loaded.audit[1:]] == [e.hash for e in loaded.audit[:-1]]

    def test_creating_an_existing_id_raises_conflict_and_keeps_the_first(
        self, store: SessionStore
    ) -> None:
        first = store.create(make_session("s1", target_file="first.py"))
        with pytest.raises(ConflictError, match="s1"):
            store.create(make_session("s1", target_file="second.py"))
        assert store.load("s1") == first

    def test_loading_a_missing_session_raises_not_found_naming_it(
        self, store: SessionStore
    ) -> None:
        with pytest.raises(NotFoundError, match="nope"):
            store.load("nope")

    def test_a_loaded_session_is_a_private_copy(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        loaded = store.load("s1")
        loaded.options["counter"] = 99
        loaded.evidence["0"]["tests_written"] = 0
        assert store.load("s1").options["counter"] == 0
        assert store.load("s1").evidence["0"]["tests_written"] == 3

    # -- update ------------------------------------------------------------------------

    def test_update_raises_version_by_one_and_persists_the_change(
        self, store: SessionStore
    ) -> None:
        created = store.create(make_session("s1"))

        def complete(session: Session) -> Session:
            session.status = "completed"
            session.completed_phases.append(1)
            return session

        updated = store.update("s1", complete)
        expected = created.model_copy(
            update={"status": "completed", "completed_phases": [0, 1], "version": 2}
        )
        assert updated == expected
        assert store.load("s1") == expected

    def test_every_update_raises_version_by_exactly_one(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        for expected_version in range(2, 7):
            assert store.update("s1", _increment).version == expected_version
        stored = store.load("s1")
        assert (stored.version, stored.options["counter"]) == (6, 5)

    def test_update_may_return_a_new_object(self, store: SessionStore) -> None:
        created = store.create(make_session("s1"))
        replacement = make_session("s1", target_file="other.py")
        updated = store.update("s1", lambda _: replacement)
        assert updated == replacement.model_copy(update={"version": 2})
        assert store.load("s1") == updated
        assert created.version == 1

    def test_updater_returning_none_writes_nothing(self, store: SessionStore) -> None:
        created = store.create(make_session("s1"))

        def mutate_then_decline(session: Session) -> None:
            session.status = "failed"  # changes to the copy are dropped with the None

        assert store.update("s1", mutate_then_decline) == created
        assert store.load("s1") == created

    def test_updater_raising_leaves_state_and_version_unchanged(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        before = store.update("s1", _increment)

        def mutate_then_fail(session: Session) -> Session:
            session.options["counter"] = 1000
            raise StateError("not allowed now")

        with pytest.raises(StateError, match="not allowed now"):
            store.update("s1", mutate_then_fail)
        assert store.load("s1") == before
        assert store.update("s1", _increment).version == before.version + 1

    def test_an_updater_that_changes_the_id_is_refused_and_nothing_is_written(
        self, store: SessionStore
    ) -> None:
        created = store.create(make_session("s1"))
        with pytest.raises(ValidationError, match="changed its id"):
            store.update("s1", lambda s: s.model_copy(update={"session_id": "s2"}))
        assert store.load("s1") == created
        assert not store.exists("s2")

    def test_updating_a_missing_session_raises_not_found(self, store: SessionStore) -> None:
        with pytest.raises(NotFoundError, match="ghost"):
            store.update("ghost", _increment)
        assert not store.exists("ghost")

    # -- delete and exists ---------------------------------------------------------------

    def test_delete_returns_true_then_false(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        assert store.delete("s1") is True
        assert store.delete("s1") is False
        with pytest.raises(NotFoundError):
            store.load("s1")

    def test_a_deleted_id_can_be_created_again_at_version_1(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        store.update("s1", _increment)
        store.delete("s1")
        assert store.create(make_session("s1")).version == 1
        assert store.load("s1").options["counter"] == 0

    def test_exists_follows_create_and_delete(self, store: SessionStore) -> None:
        assert not store.exists("s1")
        store.create(make_session("s1"))
        assert store.exists("s1")
        assert not store.exists("s2")
        store.delete("s1")
        assert not store.exists("s1")

    # -- listing -------------------------------------------------------------------------

    def test_list_summaries_returns_summaries_newest_first(self, store: SessionStore) -> None:
        sessions = [
            make_session("b-old", created_at="2025-01-01T00:00:00.000000+00:00"),
            make_session("a-new", created_at="2025-03-01T00:00:00.000000+00:00"),
            make_session("c-mid", created_at="2025-02-01T00:00:00.000000+00:00"),
            # Equal timestamps are ordered by session id, descending.
            make_session("a-tie", created_at="2025-02-01T00:00:00.000000+00:00"),
        ]
        for session in sessions:
            store.create(session)
        listing = store.list_summaries()
        assert [s.session_id for s in listing] == ["a-new", "c-mid", "a-tie", "b-old"]
        by_id = {s.session_id: s for s in sessions}
        assert listing == [by_id[s.session_id].summary() for s in listing]

    def test_list_summaries_filters_by_status(self, store: SessionStore) -> None:
        for index, status in enumerate(["active", "paused", "completed", "active", "failed"]):
            store.create(make_session(f"s{index}", status=status))
        assert sorted(s.session_id for s in store.list_summaries("active")) == ["s0", "s3"]
        assert [s.session_id for s in store.list_summaries("paused")] == ["s1"]
        assert [s.session_id for s in store.list_summaries("completed")] == ["s2"]
        assert [s.session_id for s in store.list_summaries("failed")] == ["s4"]
        assert len(store.list_summaries()) == 5

    def test_list_summaries_reflects_updates(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        assert store.list_summaries("active")[0].current_phase == 1

        def advance(session: Session) -> Session:
            session.current_phase, session.status = 2, "paused"
            session.updated_at = utc_now()
            return session

        stored = store.update("s1", advance)
        assert store.list_summaries() == [stored.summary()]
        assert store.list_summaries("active") == []

    def test_a_listing_reflects_changes_made_through_another_instance(
        self, store: SessionStore, second_store: SessionStore
    ) -> None:
        store.create(make_session("mine"))
        assert [s.session_id for s in store.list_summaries()] == ["mine"]

        theirs = second_store.create(make_session("theirs"))
        assert {s.session_id for s in store.list_summaries()} == {"mine", "theirs"}
        assert store.load("theirs") == theirs
        assert store.exists("theirs")

        def complete(session: Session) -> Session:
            session.status = "completed"
            return session

        completed = second_store.update("mine", complete)
        assert store.list_summaries("completed") == [completed.summary()]
        assert store.count_by_status()["completed"] == 1

        assert second_store.delete("theirs")
        assert [s.session_id for s in store.list_summaries()] == ["mine"]
        assert not store.exists("theirs")
        assert store.update("mine", _increment).version == completed.version + 1

    def test_count_by_status_counts_every_status(self, store: SessionStore) -> None:
        for index, status in enumerate(["active", "active", "paused", "failed"]):
            store.create(make_session(f"s{index}", status=status))
        assert store.count_by_status() == {
            "active": 2,
            "paused": 1,
            "completed": 0,
            "failed": 1,
            "awaiting_approval": 0,
        }
        store.delete("s0")
        assert store.count_by_status() == {
            "active": 1,
            "paused": 1,
            "completed": 0,
            "failed": 1,
            "awaiting_approval": 0,
        }

    # -- concurrency ---------------------------------------------------------------------

    def test_twenty_threads_updating_one_session_lose_no_update(
        self, store: SessionStore, second_store: SessionStore
    ) -> None:
        threads_count, updates_each = 20, 25
        store.create(make_session("hot"))
        start = threading.Barrier(threads_count)
        errors: list[BaseException] = []

        def work(target: SessionStore) -> None:
            try:
                start.wait()
                for _ in range(updates_each):
                    target.update("hot", _increment)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        # Half the threads share an instance, half use another one on the same backend.
        threads = [
            threading.Thread(target=work, args=(store if n % 2 else second_store,))
            for n in range(threads_count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        final = store.load("hot")
        assert final.options["counter"] == threads_count * updates_each
        assert final.version == 1 + threads_count * updates_each

    # -- paged listing -------------------------------------------------------------------

    def _create_dated(self, store: SessionStore, count: int, **overrides: Any) -> list[str]:
        """Create ``count`` sessions, two per second of created_at; return their ids newest first."""
        ids = []
        for index in range(count):
            stamp = f"2025-01-01T00:00:{index // 2:02d}.000000+00:00"
            session_id = f"p{index:03d}"
            store.create(make_session(session_id, created_at=stamp, **overrides))
            ids.append(session_id)
        return [s.session_id for s in store.list_summaries()]

    def test_list_page_walks_the_listing_in_order_with_cursors(self, store: SessionStore) -> None:
        newest_first = self._create_dated(store, 7)
        seen: list[str] = []
        cursors: list[str | None] = []
        cursor: str | None = None
        while True:
            page = store.list_page(limit=3, cursor=cursor)
            assert page.total == 7
            seen += [s.session_id for s in page.summaries]
            cursors.append(page.next_cursor)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == newest_first
        assert [c is None for c in cursors] == [False, False, True]
        assert store.list_page(limit=3).summaries == store.list_summaries()[:3]

    def test_list_page_of_an_empty_store_is_empty(self, store: SessionStore) -> None:
        assert store.list_page() == SessionPage(summaries=[], total=0, next_cursor=None)

    def test_a_page_that_reaches_the_end_has_no_next_cursor(self, store: SessionStore) -> None:
        newest_first = self._create_dated(store, 4)
        page = store.list_page(limit=4)
        assert [s.session_id for s in page.summaries] == newest_first
        assert (page.total, page.next_cursor) == (4, None)

    def test_list_page_filters_by_status_and_counts_the_filtered_total(
        self, store: SessionStore
    ) -> None:
        for index, status in enumerate(["active", "paused", "active", "failed", "active"]):
            store.create(
                make_session(
                    f"s{index}", status=status, created_at=f"2025-01-0{index + 1}T00:00:00+00:00"
                )
            )
        first = store.list_page("active", limit=2)
        assert [s.session_id for s in first.summaries] == ["s4", "s2"]
        assert first.total == 3
        assert first.next_cursor is not None
        second = store.list_page("active", limit=2, cursor=first.next_cursor)
        assert [s.session_id for s in second.summaries] == ["s0"]
        assert (second.total, second.next_cursor) == (3, None)
        assert store.list_page("completed") == SessionPage([], 0, None)

    def test_paging_neither_repeats_nor_skips_when_sessions_change_between_pages(
        self, store: SessionStore
    ) -> None:
        newest_first = self._create_dated(store, 6)
        first = store.list_page(limit=2)
        # A newer session, and the deletion of one already shown and one not yet shown.
        store.create(make_session("zz-newest", created_at="2026-01-01T00:00:00+00:00"))
        store.delete(newest_first[0])
        store.delete(newest_first[3])
        rest: list[str] = []
        cursor = first.next_cursor
        while cursor is not None:
            page = store.list_page(limit=2, cursor=cursor)
            rest += [s.session_id for s in page.summaries]
            cursor = page.next_cursor
        assert rest == [newest_first[2], newest_first[4], newest_first[5]]

    def test_list_page_sees_every_change_made_through_another_instance_at_once(
        self, store: SessionStore, second_store: SessionStore
    ) -> None:
        store.create(make_session("a", created_at="2025-01-01T00:00:01+00:00"))
        assert [s.session_id for s in store.list_page().summaries] == ["a"]
        b = second_store.create(make_session("b", created_at="2025-01-01T00:00:02+00:00"))
        page = store.list_page(limit=1)
        assert (page.summaries, page.total) == ([b.summary()], 2)

        def pause(session: Session) -> Session:
            session.status = "paused"
            return session

        paused = second_store.update("a", pause)
        assert store.list_page("paused").summaries == [paused.summary()]
        assert store.list_page("active").summaries == [b.summary()]
        assert second_store.delete("b")
        assert store.list_page() == SessionPage([paused.summary()], 1, None)
        assert store.count_by_status() == {s: int(s == "paused") for s in SESSION_STATUSES}

    def test_count_by_kind_counts_each_status_and_workflow_type(
        self, store: SessionStore, second_store: SessionStore
    ) -> None:
        for index, (status, workflow) in enumerate(
            [("active", "w1"), ("active", "w1"), ("active", "w2"), ("failed", "w1")]
        ):
            store.create(make_session(f"s{index}", status=status, workflow_type=workflow))
        assert second_store.count_by_kind() == {
            ("active", "w1"): 2,
            ("active", "w2"): 1,
            ("failed", "w1"): 1,
        }
        second_store.delete("s3")
        assert store.count_by_kind() == {("active", "w1"): 2, ("active", "w2"): 1}

    def test_peek_returns_the_stored_session_and_follows_changes(
        self, store: SessionStore, second_store: SessionStore
    ) -> None:
        stored = store.create(make_session("s1"))
        assert store.peek("s1") == stored
        assert store.peek("s1") == stored  # answered again (from a cache, where there is one)
        changed = second_store.update("s1", _increment)
        assert store.peek("s1") == changed
        mine = store.load("s1")
        mine.options["counter"] = -1  # a loaded session is private: the store is untouched
        assert store.peek("s1") == changed
        assert second_store.delete("s1")
        with pytest.raises(NotFoundError, match="'s1'"):
            store.peek("s1")

    def test_list_page_refuses_a_bad_limit_or_cursor(self, store: SessionStore) -> None:
        store.create(make_session("s1"))
        for limit in (0, -1, True, 2.5, "10"):
            with pytest.raises(ValidationError, match="limit"):
                store.list_page(limit=limit)  # type: ignore[arg-type]
        for cursor in ("nonsense", "", "eyJhIjoxfQ", "W10"):
            with pytest.raises(ValidationError, match="cursor"):
                store.list_page(cursor=cursor)

    # -- import, batch load, snapshot, restore -------------------------------------------

    def test_import_session_keeps_the_version_and_later_updates_continue_from_it(
        self, store: SessionStore
    ) -> None:
        record = make_session("moved", version=41)
        assert store.import_session(record) is True
        assert store.load("moved") == record
        assert store.update("moved", _increment).version == 42
        assert store.list_summaries() == [store.load("moved").summary()]

    def test_import_session_leaves_an_existing_record_unless_told_to_replace(
        self, store: SessionStore
    ) -> None:
        first = store.create(make_session("s1", target_file="first.py"))
        other = make_session("s1", target_file="other.py", version=9)
        assert store.import_session(other) is False
        assert store.load("s1") == first
        assert store.import_session(other, replace=True) is True
        assert store.load("s1") == other
        assert store.list_summaries() == [other.summary()]

    def test_import_session_refuses_a_record_that_was_never_stored(
        self, store: SessionStore
    ) -> None:
        with pytest.raises(ValidationError, match="version 0"):
            store.import_session(make_session("fresh", version=0))
        assert not store.exists("fresh")

    def test_load_many_returns_the_stored_sessions_and_leaves_out_missing_ones(
        self, store: SessionStore
    ) -> None:
        one = store.create(make_session("one"))
        two = store.create(make_session("two"))
        found, unreadable = store.load_many(["two", "ghost", "one", "two"])
        assert found == {"two": two, "one": one}
        assert unreadable == []
        assert store.load_many([]) == ({}, [])

    def test_a_snapshot_restores_changed_created_and_deleted_sessions(
        self, store: SessionStore
    ) -> None:
        kept = store.create(make_session("kept"))
        changed = store.create(make_session("changed"))
        doomed = store.create(make_session("doomed"))
        snapshot = store.snapshot(["changed", "doomed", "later", "kept"])
        assert snapshot.records == {
            "changed": changed,
            "doomed": doomed,
            "later": None,
            "kept": kept,
        }

        store.update("changed", _increment)
        store.delete("doomed")
        store.create(make_session("later"))
        store.create(make_session("outsider"))
        report = store.restore(snapshot)

        assert report == RestoreReport(
            restored=["changed", "doomed"], deleted=["later"], unchanged=["kept"]
        )
        assert store.load_many(["changed", "doomed", "kept", "later"]) == (
            {"changed": changed, "doomed": doomed, "kept": kept},
            [],
        )
        assert store.exists("outsider")
        assert store.restore(snapshot) == RestoreReport(
            unchanged=["changed", "doomed", "kept", "later"]
        )

    def test_a_snapshot_survives_json_and_restores_into_another_instance(
        self, store: SessionStore, second_store: SessionStore
    ) -> None:
        original = store.create(make_session("s1"))
        snapshot = store.snapshot(["s1", "s2"])
        data = json.loads(json.dumps(snapshot.to_dict()))
        store.update("s1", _increment)
        store.create(make_session("s2"))

        second_store.restore(SessionSnapshot.from_dict(data))

        assert store.load("s1") == original
        assert not store.exists("s2")
        data["records"]["s1"]["version"] = 99
        with pytest.raises(ValidationError, match="checksum"):
            SessionSnapshot.from_dict(data)

    def test_any_json_evidence_round_trips_exactly(self, store: SessionStore) -> None:
        evidence = {
            "nul": "a\x00b",
            "control": "\t\n\r\x1f",
            "emoji": "\U0001f600 \u00e9\u4e2d",
            "big": 2**63 + 1,
            "negative": -(2**70),
            "float": 0.1 + 0.2,
            "tiny": 5e-324,
            "nested": {"a": [{"b": [None, True, False, []]}], "": {}},
            "keys with dots.and/slashes": "ok",
        }
        stored = store.create(make_session("s1", evidence={"1": evidence}))
        loaded = store.load("s1")
        assert loaded == stored
        assert loaded.evidence["1"] == evidence
