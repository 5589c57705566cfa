"""pytest fixtures: one real PostgreSQL server per test session, databases for tests.

Load it with ``pytest_plugins = ["pos_store_postgres.pytest_plugin"]`` in a root
``conftest.py``. The server comes from Debian's ``postgresql`` binaries. Where they are
absent the tests that need it skip with a message saying how to install them; in CI
(``CI=true``) and under ``POS_REQUIRE_POSTGRES=1`` they fail instead, so a missing
install step can never pass as green.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from ._migrations import COUNTS_TABLE, SESSIONS_TABLE
from ._store import PostgresSessionStore
from .testing import PostgresNotFound, TemporaryPostgres

__all__ = ["database_url", "postgres_server", "postgres_store"]


def _required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or bool(
        os.environ.get("POS_REQUIRE_POSTGRES")
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryPostgres]:
    """One PostgreSQL server (initdb in a temporary folder) for the test session."""
    try:
        server = TemporaryPostgres()
    except PostgresNotFound as exc:
        if _required():
            pytest.fail(f"these tests need PostgreSQL: {exc}")
        pytest.skip(f"PostgreSQL is not installed here: {exc}")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres_server: TemporaryPostgres) -> Iterator[str]:
    """The URL of a new, empty database (no schema), dropped after the test."""
    name = f"t_{secrets.token_hex(6)}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def _shared_store_url(postgres_server: TemporaryPostgres) -> str:
    url = postgres_server.create_database(f"shared_{secrets.token_hex(4)}")
    with PostgresSessionStore.from_url(url) as store:
        store.migrate()
    return url


@pytest.fixture
def postgres_store(_shared_store_url: str) -> Iterator[PostgresSessionStore]:
    """A migrated store with no sessions (one database for the session, emptied per test)."""
    with psycopg.connect(_shared_store_url, autocommit=True) as conn:
        # Both tables: TRUNCATE skips the triggers that keep the counters.
        conn.execute(f"TRUNCATE {SESSIONS_TABLE}, {COUNTS_TABLE}")  # our constants
    store = PostgresSessionStore.from_url(_shared_store_url)
    yield store
    store.close()
