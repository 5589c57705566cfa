"""The ``pos-workflow`` commands on a real PostgreSQL store: migrate, serve, copy both ways."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pos_engine import FileSessionStore, Session, open_store
from pos_engine.testing import make_session
from pos_store_postgres import SCHEMA_VERSION, PostgresSessionStore
from pos_tool.cli import main

pytestmark = pytest.mark.postgres


def _password(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url)["password"])


def _bump(session: Session) -> Session:
    session.options["counter"] += 1
    return session


def test_store_migrate_creates_the_schema_then_says_it_is_current(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "migrate", "--store", database_url]) == 0
    assert main(["store", "migrate", "--store", database_url]) == 0

    out = capsys.readouterr().out.splitlines()
    where = out[0].split(": schema version")[0]
    assert where.startswith("PostgreSQL store at postgresql://postgres:***@127.0.0.1:")
    assert out == [
        f"{where}: schema version 0 -> {SCHEMA_VERSION}",
        "  applied 1: sessions as JSON documents, with the columns and indexes of the listing",
        f"{where}: schema version {SCHEMA_VERSION} is current; nothing to do",
    ]
    assert _password(database_url) not in "\n".join(out)


def test_serve_refuses_an_unmigrated_database_and_names_the_fix(
    database_url: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"POS_WORKFLOW_STORE": database_url, "PATH": ""},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("pos-workflow: cannot start: the PostgreSQL session store at ")
    assert "has no pos_workflow schema yet" in result.stderr
    assert (
        "fix: Run `pos-workflow store migrate --store 'postgresql://postgres:***@" in result.stderr
    )
    assert _password(database_url) not in result.stderr
    assert "Traceback" not in result.stderr


def test_sessions_copy_from_files_to_postgres_and_back_unchanged(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = FileSessionStore.from_project(tmp_path / "before", durable=False)
    for index in range(12):
        source.create(
            make_session(f"s{index:02d}", created_at=f"2025-01-{index + 1:02d}T00:00:00+00:00")
        )
    source.update("s03", _bump)
    source.update("s03", _bump)

    assert (
        main(
            [
                "store",
                "copy",
                "--from",
                f"file://{tmp_path}/before",
                "--to",
                database_url,
                "--batch-size",
                "5",
            ]
        )
        == 0
    )
    assert main(["store", "copy", "--from", database_url, "--to", str(tmp_path / "after")]) == 0
    assert main(["store", "copy", "--from", f"file://{tmp_path}/before", "--to", database_url]) == 0

    runs = capsys.readouterr().out.split("from ")[1:]
    checksums = {
        line.rsplit(" ", 1)[1] for run in runs for line in run.splitlines() if "checksum" in line
    }
    assert len(checksums) == 1  # one checksum on both sides of all three runs
    assert "copied 12, unchanged 0" in runs[0]
    assert "copied 12, unchanged 0" in runs[1]
    assert "copied 0, unchanged 12" in runs[2]
    assert _password(database_url) not in "".join(runs)
    back = FileSessionStore.from_project(tmp_path / "after")
    assert back.list_summaries() == source.list_summaries()
    assert back.load("s03") == source.load("s03")
    assert back.load("s03").version == 3


def test_a_copy_into_postgres_reports_a_changed_session_and_exits_1(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = FileSessionStore.from_project(tmp_path, durable=False)
    source.create(make_session("s1"))
    assert main(["store", "copy", "--from", str(tmp_path), "--to", database_url]) == 0
    with open_store(database_url) as target:
        target.update("s1", _bump)
    capsys.readouterr()

    assert main(["store", "copy", "--from", str(tmp_path), "--to", database_url]) == 1
    assert "conflict s1: source version 1, target version 2" in capsys.readouterr().out
    assert (
        main(["store", "copy", "--from", str(tmp_path), "--to", database_url, "--overwrite"]) == 0
    )
    with PostgresSessionStore.from_url(database_url) as target:
        assert target.load("s1") == source.load("s1")


def test_copy_from_an_unmigrated_database_is_refused(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "copy", "--from", database_url, "--to", str(tmp_path)]) == 2
    assert "has no pos_workflow schema yet" in capsys.readouterr().err
