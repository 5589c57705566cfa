"""pos-cutover onto a PostgreSQL session store, on a real praxis-os project and a real server.

``pos-cutover run --store postgresql://...`` migrates the project's legacy sessions into
the database, verifies through servers started on the same database, and ``rollback``
removes exactly what the cutover created there and restores what it changed; every file
of the project ends byte-identical. A cutover killed right after a session reached the
database (before the ledger's last write), or a rollback killed half-way, is rolled back
completely by the next ``rollback``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from pos_cutover import SessionInventory, find_backup, read_legacy_migration
from pos_cutover.cli import main
from pos_engine import FileSessionStore, Session, SessionSnapshot, open_store, redact_url
from pos_engine.testing import make_session
from pos_store_postgres import PostgresSessionStore

pytestmark = pytest.mark.postgres

FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "praxis-project"
SERVER = ["--server-command", shlex.join([sys.executable, "-m", "pos_tool", "serve"])]

COLLIDING = "1ec2c575-729c-44a2-a8b8-31409068cb68"
"""A legacy session file's id that the database holds already: left as it is."""
THEIRS = "other_project_py_20250101_000000_0a0a0a"
"""A session of another project on the same database."""
FOREIGN_PROBE = "test_generation_v3_smoke_py_20250101_000000_0b0b0b"
"""A probe session another project's cutover is using right now."""

DRIVER = """
import os, signal, sys
from pos_store_postgres import PostgresSessionStore
from pos_cutover.cli import main

method, after = sys.argv[1], int(sys.argv[2])
real = getattr(PostgresSessionStore, method)
calls = [0]

def dies(self, *args, **kwargs):
    result = real(self, *args, **kwargs)
    calls[0] += 1
    if calls[0] == after:
        os.kill(os.getpid(), signal.SIGKILL)  # after the database has it, before anything else
    return result

setattr(PostgresSessionStore, method, dies)
sys.exit(main(sys.argv[3:]))
"""
"""Runs pos-cutover in a child that SIGKILLs itself right after its n-th call of a store method."""


# The backups, and the file store's index: a cache whose bytes follow the order of writes,
# created by any server start on the project (see FileSessionStore.project_index_dir).
_NOT_COMPARED = (".praxis-os/backups/", FileSessionStore.project_index_dir(".").as_posix() + "/")


def _tree(root: Path) -> dict[str, str]:
    return {
        rel: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (rel := p.relative_to(root).as_posix()).startswith(_NOT_COMPARED)
    }


def _free_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/mcp"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "praxis-project"
    shutil.copytree(FIXTURE, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


@pytest.fixture
def store_url(database_url: str) -> str:
    """A migrated database holding sessions of its own: another project's, one with a legacy id."""
    with PostgresSessionStore.from_url(database_url) as store:
        store.migrate()
        store.create(make_session(THEIRS))
        store.update(THEIRS, lambda s: s.model_copy(update={"checkpoint_note": "theirs"}))
        store.create(make_session(COLLIDING, workflow_type="spec_creation_v1"))
        store.create(
            make_session(
                FOREIGN_PROBE,
                target_file="cutover-probe/smoke.py",
                options={"pos_cutover": "cutover-20990101T000000Z"},
            )
        )
    return database_url


def _all(url: str) -> dict[str, Session | None]:
    """Every session in the database, by id."""
    with open_store(url) as store:
        ids = [s.session_id for s in store.list_summaries()]
        return dict(store.snapshot(ids).records)


def _cutover(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*args, *SERVER])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _password(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url)["password"])


def test_a_cutover_onto_postgresql_migrates_verifies_there_and_rolls_back_exactly_what_it_did(
    project: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before, db_before = _tree(project), _all(store_url)

    code, out, err = _cutover(
        capsys,
        "run",
        "--project",
        str(project),
        "--json",
        "--store",
        store_url,
        "--accept-unmigrated",
        "--http-url",
        _free_url(),
    )

    result = json.loads(out)
    assert code == 0, err
    backup = find_backup(project)
    ledger = read_legacy_migration(backup)
    assert ledger is not None
    created = sorted(ledger.created)
    assert created and COLLIDING not in created
    # The backup names the database without its password, and holds every session it had.
    assert (backup.store_setting, backup.store_where) == (
        redact_url(store_url),
        f"PostgreSQL store at {redact_url(store_url)}",
    )
    assert backup.inventory().ids == set(db_before)
    assert _password(store_url) not in out + err
    for path in backup.path.rglob("*"):
        assert path.is_dir() or _password(store_url).encode() not in path.read_bytes()
    # The sessions went into the database, none into the project's file store.
    after = _all(store_url)
    assert set(after) == set(db_before) | set(created)
    assert after[COLLIDING] == db_before[COLLIDING]
    assert after[FOREIGN_PROBE] == db_before[FOREIGN_PROBE]
    assert list(FileSessionStore.project_state_dir(project).glob("*.json")) == []
    # Verified through servers on the database: every migrated session answered there.
    verification = result["verification"]
    assert sorted(m["session_id"] for m in verification["migrated"] if m["ok"]) == created
    assert verification["sessions"]["store"]["unchanged"] == sorted(db_before)
    assert any(
        w.startswith(
            ".cursor/mcp.json: pos-workflow starts pos-workflow on the project's file store"
        )
        for w in verification["warnings"]
    )
    # An agent works on a migrated session after the cutover.
    progressed = created[0]
    with open_store(store_url) as store:
        store.update(progressed, lambda s: s.model_copy(update={"checkpoint_note": "after"}))
        worked_on = store.load(progressed)

    code, out, err = _cutover(
        capsys, "rollback", "--project", str(project), "--json", "--store", store_url
    )

    record = json.loads(out)["rollback"]
    assert (code, record["ok"], record["byte_identical"]) == (0, True, True), err
    assert record["migrations_undone"][0]["sessions"] == created
    assert record["sessions"]["unchanged"] == sorted(db_before)
    assert _all(store_url) == db_before
    assert _tree(project) == before
    kept = SessionSnapshot.from_dict(
        json.loads((backup.path / f"rolled-back-sessions/{progressed}.json").read_text())
    )
    assert dict(kept.records) == {progressed: worked_on}


def test_a_postgresql_backup_is_refused_without_its_store(
    project: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cutover(
        capsys, "backup", "--project", str(project), "--json", "--store", store_url
    )
    assert code == 0, err
    backup = find_backup(project)
    db = _all(store_url)

    code, out, _ = _cutover(capsys, "rollback", "--project", str(project), "--json")

    result = json.loads(out)
    where = redact_url(store_url)
    assert (code, result["outcome"]) == (2, "error")
    assert result["message"] == (
        f"backup {backup.backup_id} was taken on {where} (PostgreSQL store at {where}), but "
        "this command is set to use the project's file store: its sessions would be looked "
        f"for in the wrong place. Pass --store {where} (with its password), or set "
        "POS_WORKFLOW_STORE to it."
    )
    assert _all(store_url) == db


def test_an_unmigrated_database_fails_the_check_and_the_run_changes_nothing(
    project: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(project)

    code, out, _ = _cutover(
        capsys, "run", "--project", str(project), "--json", "--store", database_url
    )

    result = json.loads(out)
    [store] = [r for r in result["checks"]["results"] if r["name"] == "session-store"]
    assert (code, result["outcome"], store["status"]) == (1, "check_failed", "FAIL")
    assert "has no pos_workflow schema yet" in store["reason"]
    assert "pos-workflow store migrate" in store["remediation"]
    assert _password(database_url) not in out
    assert _tree(project) == before


# -- kills -------------------------------------------------------------------------------


def _killed(project: Path, method: str, after: int, *argv: str) -> int:
    """Run pos-cutover in a child that is SIGKILLed right after its n-th ``method`` call."""
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            method,
            str(after),
            *argv,
            "--project",
            str(project),
            *SERVER,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    _wait_for_servers(project)
    return child.returncode


def _wait_for_servers(project: Path) -> None:
    """Let the servers a killed cutover started see their stdin close and exit."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alive = []
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if str(project) in " ".join(proc.info["cmdline"] or []) and proc.pid != os.getpid():
                    alive.append(proc)
        if not alive:
            return
        psutil.wait_procs(alive, timeout=1)
    raise AssertionError(f"servers of {project} still running after 60 s")


@pytest.mark.parametrize("after", [1, 2])
def test_a_run_killed_right_after_a_session_reached_postgresql_is_rolled_back_completely(
    project: Path, store_url: str, capsys: pytest.CaptureFixture[str], after: int
) -> None:
    before, db_before = _tree(project), _all(store_url)

    status = _killed(
        project, "create", after, "run", "--store", store_url, "--accept-unmigrated", "--json"
    )

    assert status == -9
    ledger = read_legacy_migration(find_backup(project))
    assert ledger is not None
    new = {sid: s for sid, s in _all(store_url).items() if sid not in db_before}
    # The backup had started its canary (a probe session, which the rollback sweeps up).
    probes = {sid for sid, s in new.items() if s and s.target_file.startswith("cutover-probe/")}
    assert len(probes) == 1
    in_db = set(new) - probes
    # The ledger named every session before it could exist: the ones in the database too.
    assert len(in_db) == after and in_db <= set(ledger.created)
    assert not ledger.files  # killed before the ledger's last write

    code, out, err = _cutover(
        capsys, "rollback", "--project", str(project), "--json", "--store", store_url
    )

    record = json.loads(out)["rollback"]
    assert (code, record["ok"]) == (0, True), err
    assert record["migrations_undone"][0]["sessions"] == sorted(in_db)
    assert _all(store_url) == db_before
    assert _tree(project) == before


def test_a_rollback_killed_half_way_through_the_database_finishes_when_run_again(
    project: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before, db_before = _tree(project), _all(store_url)
    code, _, err = _cutover(
        capsys,
        "run",
        "--project",
        str(project),
        "--store",
        store_url,
        "--accept-unmigrated",
        "--http-url",
        _free_url(),
    )
    assert code == 0, err
    ledger = read_legacy_migration(find_backup(project))
    assert ledger is not None and len(ledger.created) >= 2

    status = _killed(project, "delete", 1, "rollback", "--store", store_url, "--json")

    assert status == -9
    left = set(_all(store_url)) - set(db_before)
    assert len(left) == len(ledger.created) - 1
    code, out, err = _cutover(
        capsys, "rollback", "--project", str(project), "--json", "--store", store_url
    )
    record = json.loads(out)["rollback"]
    assert (code, record["ok"], record["byte_identical"]) == (0, True, True), err
    assert _all(store_url) == db_before
    assert _tree(project) == before
    assert SessionInventory.from_dict(
        json.loads((find_backup(project).path / "store-inventory.json").read_text())
    ).ids == set(db_before)
