"""Fixtures shared by every package's tests."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator

import pytest

# A real PostgreSQL server for the tests that ask for it (the fixtures skip, or fail in CI,
# where Debian's postgresql binaries are missing), when pos-store-postgres is installed.
pytest_plugins = (
    ["pos_store_postgres.pytest_plugin"] if importlib.util.find_spec("pos_store_postgres") else []
)


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """Undo logging set-up done by a CLI ``main()`` called in-process.

    The CLIs point the root logger at the ``sys.stderr`` of the moment, which under
    pytest is a capture stream that is closed after the test; a later test logging
    to it would fail inside the logging module.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by -m
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every ``postgres`` test ``slow`` too: ``-m "not slow"`` (the fast lane) skips them.

    They start a PostgreSQL server (once per run) and talk to it over a socket; the full
    suite and CI still run them.
    """
    for item in items:
        if item.get_closest_marker("postgres") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
