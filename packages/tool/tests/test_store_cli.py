"""``pos-workflow store migrate|copy`` and ``serve --store`` on file stores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from pos_engine import CopyReport, FileSessionStore, Session, open_store
from pos_engine.testing import make_session
from pos_tool import build_server
from pos_tool._store_cli import _progress
from pos_tool.cli import main
from pos_tool.testing import call_pos_workflow


def _bump(session: Session) -> Session:
    session.options["counter"] += 1
    return session


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A project whose file store holds three sessions, one of them at version 2."""
    root = tmp_path / "source"
    store = FileSessionStore.from_project(root, durable=False)
    for index in range(3):
        store.create(make_session(f"s{index}", created_at=f"2025-01-0{index + 1}T00:00:00+00:00"))
    store.update("s1", _bump)
    return root


def test_store_copy_between_projects_prints_counts_and_matching_checksums(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"

    code = main(["store", "copy", "--from", f"file://{source}", "--to", str(target)])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    checksum = out[2].rsplit(" ", 1)[1]
    assert out[2:] == [
        f"source: 3 session(s), checksum {checksum}",
        "copied 3, unchanged 0, replaced 0, conflicts 0",
        f"target: 3 of those session(s), checksum {checksum}",
        "verified: the target holds every source session exactly",
    ]
    copied = FileSessionStore.from_project(target)
    assert copied.load("s1") == FileSessionStore.from_project(source).load("s1")


def test_store_copy_again_copies_nothing_and_reports_a_conflict_with_exit_1(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"
    assert main(["store", "copy", "--from", str(source), "--to", str(target)]) == 0
    FileSessionStore.from_project(target).update("s2", _bump)
    capsys.readouterr()

    code = main(["store", "copy", "--from", str(source), "--to", str(target)])

    out = capsys.readouterr().out
    assert code == 1
    assert "copied 0, unchanged 2, replaced 0, conflicts 1" in out
    assert (
        "  conflict s2: source version 1, target version 2 (left as it is; --overwrite replaces it)"
        in out
    )
    assert "NOT verified" in out
    assert main(["store", "copy", "--from", str(source), "--to", str(target), "--overwrite"]) == 0
    assert "replaced 1" in capsys.readouterr().out


def test_store_copy_refuses_a_source_without_sessions_instead_of_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "copy", "--from", str(tmp_path / "typo"), "--to", str(tmp_path)]) == 2
    assert "names a folder that holds no sessions" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_store_copy_refuses_the_same_store_twice(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "copy", "--from", str(source), "--to", str(source)]) == 2
    assert "name the same store" in capsys.readouterr().err


def test_store_copy_refuses_a_batch_size_below_1(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["store", "copy", "--from", str(source), "--to", str(tmp_path / "t")]
    assert main([*args, "--batch-size", "0"]) == 2
    assert "--batch-size must be 1 or more, got 0" in capsys.readouterr().err


def test_store_migrate_on_a_file_store_says_it_is_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_WORKFLOW_STORE", f"file://{tmp_path}")
    assert main(["store", "migrate"]) == 0
    assert capsys.readouterr().out == (
        "file store (.praxis-os/state/workflows): ready (this store has no versioned schema)\n"
    )
    assert (tmp_path / ".praxis-os" / "state" / "workflows").is_dir()


def test_store_migrate_without_a_store_says_how_to_name_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POS_WORKFLOW_STORE", raising=False)
    assert main(["store", "migrate"]) == 2
    assert "name the store with --store URL or $POS_WORKFLOW_STORE" in capsys.readouterr().err


def test_store_commands_print_no_password(source: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "migrate", "--store", "mysql://app:hunter2@db/x"]) == 2
    assert main(["store", "copy", "--from", str(source), "--to", "mysql://a:hunter2@db/x"]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err
    assert err.count("pos-workflow: store") == 2
    assert "'mysql://app:***@db/x' has scheme 'mysql'" in err


@pytest.mark.slow
def test_serve_refuses_a_store_it_cannot_open_without_a_traceback(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"POS_WORKFLOW_STORE": "redis://user:hunter2@cache:6379/0", "PATH": ""},
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "pos-workflow: cannot start: store URL 'redis://user:***@cache:6379/0' has scheme 'redis'"
    )
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_server_over_another_projects_store_serves_its_sessions(
    project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    FileSessionStore.from_project(elsewhere).create(make_session("theirs"))
    server = build_server(project, store=open_store(f"file://{elsewhere}"))

    async with Client(server) as client:
        listing = await call_pos_workflow(client, "list_sessions")
        info = await client.call_tool("get_server_info", {})

    assert [s["session_id"] for s in listing["sessions"]] == ["theirs"]
    assert not (project / ".praxis-os" / "state").exists()
    assert info.structured_content is not None
    assert info.structured_content["sessions"]["active"] == 1


def test_a_long_copy_reports_its_progress_on_stderr(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    show = _progress(every_seconds=0)
    show(CopyReport(source_sessions=500, copied=480))
    assert capsys.readouterr().err == "... 500 session(s) read, 480 copied\n"
    quiet = _progress(every_seconds=3600)
    quiet(CopyReport(source_sessions=500))
    assert capsys.readouterr().err == ""
