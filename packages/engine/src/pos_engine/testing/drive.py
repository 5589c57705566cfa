"""Helpers that drive a real engine through a workflow, for tests and demos."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from .._engine import WorkflowEngine
from .._examples import write_example_files

__all__ = ["FakeClock", "complete_all", "example_evidence", "write_example_files"]


class FakeClock:
    """A clock that only moves when told to, for exact durations in tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += timedelta(seconds=seconds)


def example_evidence(
    result: dict[str, Any], project_root: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Return the checkpoint's example evidence from a result that carries phase_content.

    With ``project_root``, first write the files the example names where the server
    verifies them (``x-verify``), so that the example passes there.
    """
    checkpoint = result["phase_content"]["checkpoint"]
    if project_root is not None:
        write_example_files(project_root, checkpoint)
    evidence: dict[str, Any] = checkpoint["evidence_example"]
    return evidence


def complete_all(engine: WorkflowEngine, session_id: str) -> list[dict[str, Any]]:
    """Complete every remaining phase with its example evidence; return each result."""
    results = []
    current = engine.get_current_phase(session_id)
    phase = current["current_phase"]
    while True:
        evidence = example_evidence(current, engine.project_root)
        done = engine.complete_phase(session_id, phase, evidence)
        results.append(done)
        if not done["checkpoint_passed"]:
            raise AssertionError(f"example evidence failed phase {phase}: {done['error']}")
        if done["workflow_completed"]:
            return results
        current, phase = done, done["next_phase"]
