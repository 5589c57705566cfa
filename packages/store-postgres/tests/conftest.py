"""The PostgreSQL fixtures come from ``pos_store_postgres.pytest_plugin`` (root conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
