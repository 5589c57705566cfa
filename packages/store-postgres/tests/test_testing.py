"""The throwaway PostgreSQL of the tests and benchmarks, and the shared-store fixture."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pos_engine.testing import make_session
from pos_store_postgres import PostgresSessionStore
from pos_store_postgres import testing as pg_testing
from pos_store_postgres.testing import PostgresNotFound, TemporaryPostgres, find_postgres_bin

pytestmark = pytest.mark.postgres


def test_the_binaries_folder_can_be_chosen_by_environment(
    postgres_server: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_POSTGRES_BIN", str(postgres_server.bin))
    assert find_postgres_bin() == postgres_server.bin


def test_missing_binaries_say_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_POSTGRES_BIN", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pg_testing.glob, "glob", lambda pattern: [])
    with pytest.raises(PostgresNotFound, match=r"apt-get install -y postgresql"):
        find_postgres_bin()


def test_a_server_that_is_not_running_cannot_restart_and_stops_quietly() -> None:
    server = TemporaryPostgres()
    with pytest.raises(RuntimeError, match="not running"):
        server.restart()
    server.stop()


def test_the_shared_store_fixture_starts_empty_with_zeroed_counters(
    postgres_store: PostgresSessionStore,
) -> None:
    assert postgres_store.list_page().total == 0
    postgres_store.create(make_session("s1"))
    assert postgres_store.count_by_status()["active"] == 1


def test_the_shared_store_fixture_is_emptied_between_tests(
    postgres_store: PostgresSessionStore,
) -> None:
    assert postgres_store.list_summaries() == []
    assert postgres_store.count_by_status() == {
        "active": 0,
        "paused": 0,
        "completed": 0,
        "failed": 0,
        "awaiting_approval": 0,
    }


_KILLED_RUN = """
import os, signal
from pos_store_postgres.testing import TemporaryPostgres
server = TemporaryPostgres()
server.start()
print(server._root, server.admin_url, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_server_left_by_a_killed_run_is_stopped_and_removed() -> None:
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN], capture_output=True, text=True, check=False
    )
    assert child.returncode == -9, child.stderr
    root_text, url = child.stdout.split()
    root = Path(root_text)
    with psycopg.connect(url, connect_timeout=5) as conn:  # the orphan is still serving
        assert conn.execute("SELECT 1").fetchone() == (1,)

    assert root in pg_testing.reap_orphans()

    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2).close()


def test_a_live_runs_server_is_left_alone(postgres_server: TemporaryPostgres) -> None:
    assert postgres_server._root is not None
    assert postgres_server._root not in pg_testing.reap_orphans()
    assert (postgres_server._root / "data" / "postmaster.pid").exists()
