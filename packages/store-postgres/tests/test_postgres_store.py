"""What is specific to PostgreSQL: migrations, readiness, corrupt rows, errors, the URL."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator

import psycopg
import pytest
from pos_engine import (
    SESSION_STATUSES,
    ConflictError,
    CorruptSessionError,
    InternalError,
    SchemaMigration,
    Session,
    StoreConfigError,
    StoreUnavailableError,
    open_store,
)
from pos_engine.testing import make_session
from pos_store_postgres import MIGRATIONS, SCHEMA_VERSION, PostgresSessionStore
from pos_store_postgres import _store as store_module
from pos_store_postgres._store import _PAGE
from pos_store_postgres.testing import TemporaryPostgres
from psycopg import sql

pytestmark = pytest.mark.postgres

# The text of every shipped migration. Migrations are append-only: a database that
# applied one never runs it again, so editing it would fork the schema. Add a new one.
SHIPPED = {1: "8636f6192d378f3535e4c07152adcea748042475645d8857357bbef2b855f5f2"}


@pytest.fixture
def bare(database_url: str) -> Iterator[PostgresSessionStore]:
    """A store on an empty database: connected, not migrated."""
    store = PostgresSessionStore.from_url(database_url)
    yield store
    store.close()


@pytest.fixture
def store(bare: PostgresSessionStore) -> PostgresSessionStore:
    bare.setup()
    return bare


def _sql(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)  # type: ignore[call-overload]
        return cursor.fetchall() if cursor.description else []


def test_shipped_migrations_are_never_edited() -> None:
    digests = {
        m.version: hashlib.sha256("\n".join(m.statements).encode()).hexdigest() for m in MIGRATIONS
    }
    assert {v: digests[v] for v in SHIPPED} == SHIPPED
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def test_migrate_creates_the_schema_once_and_records_it(
    bare: PostgresSessionStore, database_url: str
) -> None:
    assert bare.schema_version() == 0
    first = bare.migrate()
    again = bare.migrate()

    assert first == SchemaMigration(
        before=0,
        after=SCHEMA_VERSION,
        applied=tuple(f"{m.version}: {m.description}" for m in MIGRATIONS),
    )
    assert again == SchemaMigration(before=SCHEMA_VERSION, after=SCHEMA_VERSION, applied=())
    assert _sql(database_url, "SELECT version, description FROM pos_workflow_schema") == [
        (m.version, m.description) for m in MIGRATIONS
    ]


def test_servers_migrating_at_once_apply_each_migration_once(database_url: str) -> None:
    stores = [PostgresSessionStore.from_url(database_url) for _ in range(4)]
    results: list[SchemaMigration] = []
    start = threading.Barrier(len(stores))

    def go(store: PostgresSessionStore) -> None:
        start.wait()
        results.append(store.migrate())

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()

    assert sorted(len(r.applied) for r in results) == [0, 0, 0, len(MIGRATIONS)]
    assert _sql(database_url, "SELECT count(*) FROM pos_workflow_schema") == [(len(MIGRATIONS),)]


def test_an_unmigrated_database_is_refused_with_the_command_that_fixes_it(
    bare: PostgresSessionStore, database_url: str
) -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        bare.check_ready()
    error = caught.value
    assert "has no pos_workflow schema yet" in error.message
    assert "pos-workflow store migrate --store 'postgresql://postgres:***@" in error.remediation
    password = psycopg.conninfo.conninfo_to_dict(database_url)["password"]
    assert str(password) not in error.message + error.remediation


def test_a_schema_behind_this_package_is_refused(
    store: PostgresSessionStore, database_url: str
) -> None:
    store.check_ready()
    _sql(database_url, "DELETE FROM pos_workflow_schema WHERE version = %s", SCHEMA_VERSION)
    if SCHEMA_VERSION == 1:
        message = "has no pos_workflow schema yet"
    else:  # pragma: no cover - once a second migration exists
        message = f"is at schema version {SCHEMA_VERSION - 1}, behind"
    with pytest.raises(StoreUnavailableError, match=message):
        store.check_ready()


def test_a_schema_newer_than_this_package_is_refused_by_serve_and_migrate(
    store: PostgresSessionStore, database_url: str
) -> None:
    _sql(
        database_url,
        "INSERT INTO pos_workflow_schema (version, description) VALUES (%s, 'from the future')",
        SCHEMA_VERSION + 1,
    )
    for action in (store.check_ready, store.migrate):
        with pytest.raises(StoreUnavailableError, match="newer than the 1 this pos-store-postgres"):
            action()


def test_calls_on_an_unmigrated_database_say_to_migrate(bare: PostgresSessionStore) -> None:
    with pytest.raises(StoreUnavailableError, match="has no pos_workflow schema") as caught:
        bare.create(make_session("s1"))
    assert "store migrate" in caught.value.remediation


def test_a_row_whose_document_is_broken_is_corrupt_for_that_id_only(
    store: PostgresSessionStore, database_url: str
) -> None:
    store.create(make_session("good"))
    store.create(make_session("broken"))
    store.create(make_session("liar"))
    store.create(make_session("stale"))
    _sql(
        database_url,
        """UPDATE pos_workflow_sessions SET document = '{"x": 1}' WHERE session_id = 'broken'""",
    )
    _sql(
        database_url,
        "UPDATE pos_workflow_sessions SET document = "
        "json_build_object('session_id', 'good')::jsonb || (SELECT document::jsonb - 'session_id' "
        "FROM pos_workflow_sessions WHERE session_id = 'good') WHERE session_id = 'liar'",
    )
    _sql(database_url, "UPDATE pos_workflow_sessions SET version = 5 WHERE session_id = 'stale'")

    with pytest.raises(CorruptSessionError, match="'broken' is corrupt: its row does not match"):
        store.load("broken")
    with pytest.raises(CorruptSessionError, match="holds session id 'good'"):
        store.update("liar", lambda s: s)
    with pytest.raises(CorruptSessionError, match="says version 1 in a row of version 5"):
        store.load("stale")
    assert store.load("good").version == 1
    found, unreadable = store.load_many(["good", "broken", "liar", "stale"])
    assert (list(found), unreadable) == (["good"], ["broken", "liar", "stale"])


def test_a_row_whose_listing_columns_are_invalid_is_left_out_and_reported(
    store: PostgresSessionStore, database_url: str
) -> None:
    store.create(make_session("good"))
    store.create(make_session("odd"))
    _sql(
        database_url,
        "UPDATE pos_workflow_sessions SET total_phases = -1, status = 'mystery' WHERE session_id = 'odd'",
    )

    assert [s.session_id for s in store.list_summaries()] == ["good"]
    assert store.corrupt_ids() == ["odd"]
    assert store.count_by_status() == {
        "active": 1,
        "paused": 0,
        "completed": 0,
        "failed": 0,
        "awaiting_approval": 0,
        "mystery": 1,
    }


def test_the_listing_pages_use_the_indexes_not_a_sort(
    store: PostgresSessionStore, database_url: str
) -> None:
    _sql(
        database_url,
        "INSERT INTO pos_workflow_sessions (session_id, version, status, workflow_type, "
        "target_file, current_phase, total_phases, created_at, updated_at, document) "
        "SELECT 's' || n, 1, (ARRAY['active','paused','completed','failed'])[1 + n % 4], 'w', "
        "'f.py', 1, 3, to_char(timestamp '2025-01-01' + n * interval '1 second', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00'), '', '{}' FROM generate_series(1, 20000) n",
    )
    _sql(database_url, "ANALYZE pos_workflow_sessions")
    cursor = ("2025-01-01T01:00:00", "s9")
    with psycopg.connect(database_url) as conn:
        for (by_status, after), statement in _PAGE.items():
            params = (*(["failed"] if by_status else []), *(cursor if after else ()), 51)
            plan = conn.execute(sql.SQL("EXPLAIN ") + statement, params).fetchall()
            text = "\n".join(str(row[0]) for row in plan)
            assert "Index Scan Backward using pos_workflow_sessions_" in text, text
            assert "Sort" not in text, text


def test_the_counters_stay_exact_under_concurrent_creates_status_changes_and_deletes(
    store: PostgresSessionStore, database_url: str
) -> None:
    statuses = ["active", "paused", "failed", "completed"]
    for index in range(40):
        store.create(make_session(f"s{index:02d}"))
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def churn(worker: int) -> None:
        try:
            start.wait()
            for round_ in range(30):
                sid = f"s{(worker * 5 + round_) % 40:02d}"
                status = statuses[(worker + round_) % 4]
                store.update(sid, lambda s, st=status: s.model_copy(update={"status": st}))
                extra = f"w{worker}-{round_}"
                store.create(make_session(extra, status=status))
                if round_ % 2:
                    store.delete(extra)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    actual = dict(
        _sql(database_url, "SELECT status, count(*) FROM pos_workflow_sessions GROUP BY status")
    )
    assert store.count_by_status() == {s: actual.get(s, 0) for s in SESSION_STATUSES}
    assert store.list_page().total == sum(actual.values()) == 40 + 8 * 15
    assert store.list_page("paused").total == actual.get("paused", 0)


def test_an_update_that_keeps_losing_the_race_gives_up_with_a_conflict(
    store: PostgresSessionStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_UPDATE_ATTEMPTS", 3)
    store.create(make_session("hot"))
    rival = PostgresSessionStore.from_url(database_url)

    def always_overtaken(session: Session) -> Session:
        rival.update("hot", lambda s: s.model_copy(update={"status": "paused"}))
        return session

    with pytest.raises(ConflictError, match="'hot' changed under 3 attempts"):
        store.update("hot", always_overtaken)
    rival.close()
    assert store.conflicts == 3
    assert store.load("hot").version == 4


def test_a_wrong_password_is_refused_without_printing_it(database_url: str) -> None:
    wrong = database_url.replace("postgres:", "postgres:not-the-password-", 1)
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(wrong)
    message = caught.value.message
    assert "not-the-password" not in message + caught.value.remediation
    assert message.startswith(
        "cannot connect to the PostgreSQL session store at postgresql://postgres:***@"
    )
    assert "password authentication failed" in message


def test_an_unreachable_server_is_a_clear_startup_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        StoreUnavailableError, match=f"at postgresql://u:\\*\\*\\*@127.0.0.1:{port}/db"
    ):
        open_store(f"postgresql://u:pw@127.0.0.1:{port}/db?connect_timeout=2")


def test_a_server_gone_mid_run_gives_store_errors_not_driver_errors(
    database_url: str,
) -> None:
    server = TemporaryPostgres()
    server.start()
    try:
        store = PostgresSessionStore.from_url(server.url("postgres") + "?pool_timeout=1")
        store.setup()
        store.create(make_session("s1"))
    finally:
        server.stop()
    with pytest.raises(StoreUnavailableError, match=r"could not load session 's1': .* unavailable"):
        store.load("s1")
    store.close()


def test_the_store_reconnects_after_the_database_restarts(
    store: PostgresSessionStore, postgres_server: TemporaryPostgres
) -> None:
    store.create(make_session("s1"))
    postgres_server.restart()
    assert store.load("s1").version == 1
    assert store.update("s1", lambda s: s.model_copy(update={"status": "paused"})).version == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pool_max_size=0", "pool_max_size='0' is not a positive integer"),
        ("pool_min_size=x", "pool_min_size='x' is not a positive integer"),
        ("pool_min_size=5&pool_max_size=2", "pool_min_size=5 over pool_max_size=2"),
    ],
)
def test_malformed_pool_settings_are_refused(database_url: str, query: str, message: str) -> None:
    with pytest.raises(StoreConfigError, match=message):
        PostgresSessionStore.from_url(f"{database_url}?{query}")


def test_open_store_finds_the_backend_through_its_entry_point(database_url: str) -> None:
    for url in (database_url, database_url.replace("postgresql://", "postgres://", 1)):
        store = open_store(url + "?pool_max_size=3&application_name=mine")
        assert isinstance(store, PostgresSessionStore)
        assert store.describe().startswith("PostgreSQL store at postgres")
        assert "***" in store.describe()
        store.close()


def test_an_sql_error_that_is_not_an_outage_is_an_internal_error(
    store: PostgresSessionStore, database_url: str
) -> None:
    _sql(
        database_url,
        "ALTER TABLE pos_workflow_sessions ADD CONSTRAINT tiny CHECK (length(target_file) < 3)",
    )
    with pytest.raises(
        InternalError,
        match=r"could not create session 's1': PostgreSQL refused it \(CheckViolation\)",
    ):
        store.create(make_session("s1"))
