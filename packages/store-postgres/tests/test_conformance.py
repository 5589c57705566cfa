"""PostgresSessionStore passes the store conformance suite, unchanged, on a real server."""

from __future__ import annotations

import pytest
from pos_engine.testing import StoreConformance, StoreFactory
from pos_store_postgres import PostgresSessionStore

pytestmark = pytest.mark.postgres


class TestPostgresStoreConformance(StoreConformance):
    @pytest.fixture
    def store_factory(self, database_url: str) -> StoreFactory:
        def open_set_up() -> PostgresSessionStore:
            store = PostgresSessionStore.from_url(database_url)
            store.setup()
            return store

        return open_set_up


class TestPostgresStoreConformanceWithOneConnection(StoreConformance):
    """A pool of one connection: concurrent callers queue for it instead of deadlocking."""

    @pytest.fixture
    def store_factory(self, database_url: str) -> StoreFactory:
        def open_set_up() -> PostgresSessionStore:
            store = PostgresSessionStore.from_url(database_url + "?pool_max_size=1")
            store.setup()
            return store

        return open_set_up
