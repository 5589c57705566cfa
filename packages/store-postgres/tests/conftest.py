"""A real PostgreSQL server for the whole test session, and a fresh database per test.

The server comes from Debian's ``postgresql`` binaries. Where they are absent the
tests skip with a message saying how to install them; in CI (``CI=true``) and in
``nox -s postgres`` (``POS_REQUIRE_POSTGRES=1``) they fail instead, so a missing
install step can never pass as green.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from pos_store_postgres.testing import PostgresNotFound, TemporaryPostgres


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryPostgres]:
    """One PostgreSQL server (initdb in a temporary folder) for the test session."""
    try:
        server = TemporaryPostgres()
    except PostgresNotFound as exc:
        if os.environ.get("CI", "").lower() == "true" or os.environ.get("POS_REQUIRE_POSTGRES"):
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
