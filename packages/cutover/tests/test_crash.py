"""SIGKILL at random points of ``run`` and of ``rollback``: a rollback still restores every file.

A kill point is the k-th file operation that changes the project (``os.replace``,
``os.link``, ``os.unlink``, ``os.rmdir`` on a path inside it: every atomic write,
removal and session-store change goes through one of them), just before it or
just after it. Since every write is atomic, the states a kill can leave are exactly
the states between these operations (plus the temp files of a write not yet
renamed), so drawing kill points from them reaches every state a kill at a random
time could, without waiting for the random time.

Each kill point is one job in a worker process (jobs run side by side): the worker
copies the project, runs the cutover in a child that kills itself at its kill
point, waits for the servers the child started to exit, runs ``pos-cutover
rollback`` and compares the sha256 of every file with the project before the
cutover (``.praxis-os/backups/`` aside).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest
from pos_cutover import CheckReport, Cutover, ServerLauncher
from pos_cutover.cli import main

pytestmark = pytest.mark.slow

KILL_POINTS = 50
PARALLEL = max(2, min(4, os.cpu_count() or 2))
_OPS = ("replace", "link", "unlink", "rmdir")

Tree = Callable[[Path], dict[str, str]]


@dataclass(frozen=True)
class Job:
    """One kill point: where the cutover dies, and in which copy of the project."""

    index: int
    kill_at: int
    after: bool


def _arm(project: Path, kill_at: int, after: bool, counted: list[int]) -> None:
    """Make this process SIGKILL itself at its ``kill_at``-th file operation inside ``project``."""
    root = str(project)

    def wrap(name: str) -> None:
        real = getattr(os, name)

        def operation(*args: Any, **kwargs: Any) -> Any:
            target = str(args[1] if name in ("replace", "link") else args[0])
            inside = target.startswith(root)
            if inside:
                counted[0] += 1
                if counted[0] == kill_at and not after:
                    os.kill(os.getpid(), signal.SIGKILL)
            result = real(*args, **kwargs)
            if inside and counted[0] == kill_at and after:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(os, name, operation)

    for name in _OPS:
        wrap(name)


def _quiet() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def _armed(project: Path, kill_at: int, after: bool, argv: list[str], out: Path) -> int:
    """Run ``pos-cutover argv`` in a forked child armed to die; return the child's wait status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed or leaves through os._exit
        code = 99
        try:
            _quiet()
            counted = [0]
            _arm(project, kill_at, after, counted)
            code = main([*argv, "--project", str(project)])
            out.write_text(json.dumps({"code": code, "ops": counted[0]}))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


def _wait_for_servers(project: Path) -> None:
    """Let the servers a killed cutover started see their stdin close and exit."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alive = []
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if str(project) in " ".join(proc.info["cmdline"] or []):
                    alive.append(proc)
        if not alive:
            return
        psutil.wait_procs(alive, timeout=1)
    raise AssertionError(f"servers of {project} still running after 60 s")


def _count(template: Path, argv: list[str], work: Path) -> int:
    """Run the command once unarmed on a copy; return how many file operations it made."""
    project = work / "counting"
    shutil.copytree(template, project)
    _armed(project, 0, False, argv, work / "count.json")
    done = json.loads((work / "count.json").read_text())
    assert done["code"] == 0
    return int(done["ops"])


def _kill_and_roll_back(
    job: Job, template: Path, argv: list[str], work: Path, *, server: list[str], tree: Tree
) -> dict[str, Any]:
    """One job, in a worker: copy, kill the command at the job's point, roll back, compare."""
    project = work / f"kill-{job.index}"
    shutil.copytree(template, project)
    status = _armed(project, job.kill_at, job.after, argv, work / f"done-{job.index}.json")
    _wait_for_servers(project)
    rolled = main(["rollback", "--json", "--project", str(project), *server])
    before, after = json.loads((work / "before.json").read_text()), tree(project)
    shutil.rmtree(project)
    return {
        "killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
        "rollback": rolled,
        "identical": after == before,
        "differ": sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)),
    }


def _run_jobs(
    jobs: list[Job], work: Path, job_fn: Callable[[Job], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Run every job in its own worker process, ``PARALLEL`` at a time; return their results."""
    pending = list(reversed(jobs))
    running: dict[int, Job] = {}
    results: list[dict[str, Any]] = []
    while pending or running:
        while pending and len(running) < PARALLEL:
            job = pending.pop()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - a worker leaves through os._exit
                try:
                    _quiet()
                    result = job_fn(job)
                    (work / f"result-{job.index}.json").write_text(json.dumps(result))
                finally:
                    os._exit(0)
            running[pid] = job
        pid, _ = os.waitpid(-1, 0)
        finished = running.pop(pid, None)
        if finished is not None:
            path = work / f"result-{finished.index}.json"
            assert path.exists(), f"the worker of kill point {finished} died"
            results.append({**json.loads(path.read_text()), "job": finished})
    return results


def _jobs(total: int, seed: int) -> list[Job]:
    rng = random.Random(seed)
    return [Job(i, rng.randint(1, total), rng.random() < 0.5) for i in range(KILL_POINTS)]


@dataclass
class Kit:
    """What every crash test uses (the conftest fixtures, gathered)."""

    cli: Callable[..., Any]
    launcher: ServerLauncher
    praxis_copy: Callable[[Path], Path]
    tree: Tree
    free_url: Callable[[], str]

    @property
    def server(self) -> list[str]:
        return ["--server-command", " ".join(self.launcher.command)]


@pytest.fixture
def kit(
    cli: Callable[..., Any],
    launcher: ServerLauncher,
    praxis_copy: Callable[[Path], Path],
    tree: Tree,
    free_url: Callable[[], str],
) -> Kit:
    return Kit(cli, launcher, praxis_copy, tree, free_url)


def test_a_rollback_after_a_kill_at_any_point_of_run_restores_every_file(
    tmp_path: Path, kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = kit.praxis_copy(tmp_path / "template")
    (tmp_path / "before.json").write_text(json.dumps(kit.tree(template)))
    # The pre-checks read the project and write nothing into it (test_checks compares it
    # byte for byte); the killed runs reuse one real report and spend their time where
    # the writes are.
    checked = anyio.run(Cutover(template, launcher=kit.launcher).check)
    assert checked.checks is not None and checked.checks.ok
    report: CheckReport = checked.checks

    async def recorded(*_args: Any, **_kwargs: Any) -> CheckReport:
        return report

    monkeypatch.setattr("pos_cutover._steps.run_checks", recorded)
    argv = ["run", "--json", "--http-url", kit.free_url(), "--accept-unmigrated", *kit.server]
    total = _count(template, argv, tmp_path)
    assert total > 20

    results = _run_jobs(
        _jobs(total, 20261203),
        tmp_path,
        lambda job: _kill_and_roll_back(
            job, template, argv, tmp_path, server=kit.server, tree=kit.tree
        ),
    )

    failed = [
        r for r in results if not (r["killed"] and r["identical"] and r["rollback"] in (0, 2))
    ]
    assert failed == []
    # 2: killed before the backup was whole; there is nothing to roll back, and nothing changed.
    outcomes = Counter("rolled back" if r["rollback"] == 0 else "no backup yet" for r in results)
    print(f"{len(results)} kills among {total} file operations of run: {dict(outcomes)}")
    assert len(results) == KILL_POINTS


def test_a_rollback_killed_at_any_point_and_run_again_restores_every_file(
    tmp_path: Path, kit: Kit
) -> None:
    original = kit.praxis_copy(tmp_path / "original")
    (tmp_path / "before.json").write_text(json.dumps(kit.tree(original)))
    url = kit.free_url()
    ran = kit.cli(
        "run", "--project", str(original), "--json", "--http-url", url, "--accept-unmigrated"
    )
    assert ran.code == 0, ran.err
    argv = ["rollback", "--json", *kit.server]
    total = _count(original, argv, tmp_path)
    assert total > 10

    results = _run_jobs(
        _jobs(total, 20261204),
        tmp_path,
        lambda job: _kill_and_roll_back(
            job, original, argv, tmp_path, server=kit.server, tree=kit.tree
        ),
    )

    failed = [r for r in results if not (r["killed"] and r["identical"] and r["rollback"] == 0)]
    assert failed == []
    print(f"{len(results)} kills among {total} file operations of rollback")
    assert len(results) == KILL_POINTS
