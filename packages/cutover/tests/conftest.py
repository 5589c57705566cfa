"""Fixtures: the real server as a subprocess, the demo and the praxis-os projects, copied per test.

Materialising the demo starts a real server and drives the old tools, so it is
done once per session; each test that changes a project gets its own copy. The
praxis-os project is ``tests/fixtures/praxis-project`` at the repository root (a copy of the team's shared
fixture, see its NOTICE.md), copied writable for each test that asks.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pos_cutover import ServerLauncher
from pos_cutover.cli import main
from pos_cutover.demo import DemoProject, materialise
from pos_engine import FileSessionStore
from pos_tool import REGISTRY_FILE

PRAXIS_FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "praxis-project"
"""A real praxis-os project, trimmed (its NOTICE.md says from where)."""

LAUNCHER = ServerLauncher()
"""The real server: ``python -m pos_tool serve`` with this interpreter."""
SERVER_ARGS = ["--server-command", shlex.join(LAUNCHER.command)]


PROCESS_FIXTURES = {"demo_template", "launcher"}
"""Fixtures that start the real server as a subprocess (``launcher``: the test does)."""


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by -m
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that starts server processes through these fixtures.

    The demo is materialised once per run, so marking only the test that happens to come
    first would move that cost to the next one; ``-m "not slow"`` leaves all of them out.
    """
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


INDEX = FileSessionStore.project_index_dir(".").as_posix() + "/"
"""The file store's index, a cache whose bytes follow the order of writes: never compared."""


def _snapshot(root: Path) -> dict[str, str]:
    return {
        rel: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (rel := p.relative_to(root).as_posix()).startswith(INDEX)
    }


def _tree(root: Path) -> dict[str, str]:
    return {
        rel: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not (rel := p.relative_to(root).as_posix()).startswith((".praxis-os/backups/", INDEX))
    }


def _praxis_copy(dest: Path) -> Path:
    shutil.copytree(PRAXIS_FIXTURE, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def _free_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/mcp"


@pytest.fixture
def tree() -> Callable[[Path], dict[str, str]]:
    """``tree(root)``: every file under ``root`` with its sha256, the cutover's backups aside."""
    return _tree


@pytest.fixture
def praxis_copy() -> Callable[[Path], Path]:
    """``praxis_copy(dest)``: a writable copy of the praxis-os project fixture at ``dest``."""
    return _praxis_copy


@pytest.fixture
def praxis_project(tmp_path: Path) -> Path:
    """A writable copy of the praxis-os project fixture."""
    return _praxis_copy(tmp_path / "praxis-project")


@pytest.fixture
def free_url() -> Callable[[], str]:
    """``free_url()``: a pos-workflow HTTP URL on a port nothing listens on now."""
    return _free_url


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
