"""Helpers that drive a real engine through a workflow, for tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .._engine import WorkflowEngine

__all__ = ["FakeClock", "complete_all", "example_evidence"]


class FakeClock:
    """A clock that only moves when told to, for exact durations in tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += timedelta(seconds=seconds)


def example_evidence(result: dict[str, Any]) -> dict[str, Any]:
    """Return the checkpoint's example evidence from a result that carries phase_content."""
    evidence: dict[str, Any] = result["phase_content"]["checkpoint"]["evidence_example"]
    return evidence


def complete_all(engine: WorkflowEngine, session_id: str) -> list[dict[str, Any]]:
    """Complete every remaining phase with its example evidence; return each result."""
    results = []
    current = engine.get_current_phase(session_id)
    phase = current["current_phase"]
    while True:
        done = engine.complete_phase(session_id, phase, example_evidence(current))
        results.append(done)
        if not done["checkpoint_passed"]:
            raise AssertionError(f"example evidence failed phase {phase}: {done['error']}")
        if done["workflow_completed"]:
            return results
        current, phase = done, done["next_phase"]
