"""Fixtures: a real engine over a real file store in a temporary project."""

from __future__ import annotations

from pathlib import Path

import pytest
from pos_engine import WorkflowEngine
from pos_engine.testing.drive import FakeClock


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
    return root


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(project: Path, clock: FakeClock) -> WorkflowEngine:
    return WorkflowEngine.for_project(project, durable=False, clock=clock)
