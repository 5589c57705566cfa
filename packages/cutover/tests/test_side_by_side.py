"""Servers a cutover starts side by side: both pre-check servers, every client entry.

Each server runs through a recorder that notes when its process starts and exits (and
whether its objects were frozen at exit, see ``freeze_objects_at_exit``), so the order of
the notes shows whether the processes overlapped.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover._checks import scratch_copy
from pos_cutover.cli import main

_RECORDER = """
import atexit, gc, os, sys

def note(word):
    fd = os.open({log!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, f"{{word}} {{os.getpid()}} {{gc.get_freeze_count() > 0}}\\n".encode())
    os.close(fd)

note("start")
atexit.register(note, "exit")
from pos_tool.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _recording_command(log: Path) -> list[str]:
    return [sys.executable, "-c", _RECORDER.format(log=str(log))]


def _notes(log: Path) -> list[tuple[str, int, bool]]:
    words = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    return [(word, int(pid), frozen == "True") for word, pid, frozen in words]


def _overlapped(notes: list[tuple[str, int, bool]], count: int) -> None:
    """``count`` servers all started before any exited, and each exited frozen."""
    started = [pid for word, pid, _ in notes[:count] if word == "start"]
    exits = [(pid, frozen) for word, pid, frozen in notes if word == "exit"]
    assert len(set(started)) == count, notes
    assert sorted(pid for pid, _ in exits) == sorted(started), notes
    assert all(frozen for _, frozen in exits), notes


def test_the_pre_check_starts_its_two_servers_side_by_side(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "servers.log"
    command = shlex.join([*_recording_command(log), "serve"])

    code = main(["check", "--project", str(demo), "--json", "--server-command", command])

    out = capsys.readouterr().out
    assert code == 0, out
    checks = {c["name"]: c["status"] for c in json.loads(out)["checks"]["results"]}
    assert (checks["server-current"], checks["server-target"], checks["actions"]) == (
        "PASS",
        "PASS",
        "PASS",
    )
    _overlapped(_notes(log), 2)


def test_verification_starts_the_client_entries_side_by_side(
    demo: Path, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    log = tmp_path / "clients.log"
    client = shlex.join(_recording_command(log))

    run = cli("run", "--project", str(demo), "--client-command", client, "--json")

    assert run.code == 0, run.err
    clients = json.loads(run.out)["verification"]["clients"]
    stdio = [c for c in clients if c["transport"] == "stdio"]
    assert [c["ok"] for c in stdio] == [True, True]
    _overlapped(_notes(log), 2)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_copy_for_the_server_that_only_lists_tools_leaves_the_sessions_out(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    for name in (
        ".praxis-os/config/tool-registry.json",
        ".praxis-os/workflows/w/metadata.json",
        ".praxis-os/state/workflows/s1.json",
        ".praxis-os/state/workflows/.locks/s1.lock",
        ".praxis-os/.cache/state/legacy.json",
        ".praxis-os/metrics/metrics.db",
        ".praxis-os/backups/b1/manifest.json",
        ".praxis-os/cutover.lock",
        "universal/workflows/state/metadata.json",  # a workflow that is named "state"
        "universal/workflows/backups/metadata.json",
    ):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("{}", encoding="utf-8")
    shared = [
        ".praxis-os/config/tool-registry.json",
        ".praxis-os/workflows/w/metadata.json",
        "universal/workflows/backups/metadata.json",
        "universal/workflows/state/metadata.json",
    ]
    sessions = [
        ".praxis-os/.cache/state/legacy.json",
        ".praxis-os/metrics/metrics.db",
        ".praxis-os/state/workflows/s1.json",
    ]

    with scratch_copy(project, sessions=False) as light, scratch_copy(project) as full:
        assert _files(light) == sorted(shared)
        assert _files(full) == sorted(shared + sessions)
    assert not light.exists() and not full.exists()
