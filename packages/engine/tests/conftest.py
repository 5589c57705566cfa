"""Fixtures: a real engine over each real store (files; PostgreSQL) in a temporary project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pos_engine import WorkflowEngine
from pos_engine.testing import verified
from pos_engine.testing.drive import FakeClock

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
    return root


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# The PostgreSQL half needs a server (started once per run): it is marked like the
# store's own PostgreSQL tests, which keeps it out of the fast lane (see the root conftest).
@pytest.fixture(params=["file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, project: Path, clock: FakeClock) -> WorkflowEngine:
    """The engine over the project's file store, then over a PostgreSQL store."""
    if request.param == "file":
        return WorkflowEngine.for_project(project, durable=False, clock=clock)
    try:
        store = request.getfixturevalue("postgres_store")
    except pytest.FixtureLookupError:
        pytest.skip("pos-store-postgres is not installed: the engine runs over files only")
    return WorkflowEngine.for_project(project, store=store, clock=clock)


@pytest.fixture
def change(project: Path) -> Path:
    """The project as a git repository with docs' verified_change_v1 workflow installed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    verified.install(project, REPO / "docs" / "examples" / "workflows" / verified.WF)
    return project
