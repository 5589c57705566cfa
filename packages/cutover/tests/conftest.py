"""Fixtures: the real server as a subprocess, one materialised demo project copied per test.

Materialising the demo starts a real server and drives the old tools, so it is
done once per session; each test that changes a project gets its own copy.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pos_cutover import ServerLauncher
from pos_cutover.cli import main
from pos_cutover.demo import DemoProject, materialise
from pos_tool import REGISTRY_FILE

LAUNCHER = ServerLauncher()
"""The real server: ``python -m pos_tool serve`` with this interpreter."""
SERVER_ARGS = ["--server-command", shlex.join(LAUNCHER.command)]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def launcher() -> ServerLauncher:
    return LAUNCHER


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoProject:
    """The demo project, materialised once (never changed: tests work on copies)."""
    return materialise(tmp_path_factory.mktemp("template") / "demo", LAUNCHER)


@pytest.fixture
def demo(demo_template: DemoProject, tmp_path: Path) -> Path:
    """A private copy of the materialised demo project."""
    dest = tmp_path / "demo"
    shutil.copytree(demo_template.root, dest, symlinks=True)
    return dest


def _registry_bytes(project: Path) -> bytes | None:
    path = project / REGISTRY_FILE
    return path.read_bytes() if path.exists() else None


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def registry_of() -> Callable[[Path], bytes | None]:
    """``registry_of(project)``: the registry file's bytes (None when there is none)."""
    return _registry_bytes


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, str]]:
    """``snapshot(root)``: every file under ``root`` with its sha256."""
    return _snapshot


@dataclass
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """``cli("run", "--project", P)``: pos-cutover in-process with the test's server command."""

    def run(*args: str, server: bool = True) -> CliRun:
        argv = [*args, *SERVER_ARGS] if server else list(args)
        capsys.readouterr()
        code = main(argv)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run
