"""The session model and specs/session-state.schema.json stay in sync."""

from __future__ import annotations

from pathlib import Path

from pos_engine.schema import render_session_schema

SPEC = Path(__file__).resolve().parents[3] / "specs" / "session-state.schema.json"


def test_the_session_state_spec_is_generated_from_the_model() -> None:
    assert SPEC.read_text(encoding="utf-8") == render_session_schema(), (
        "specs/session-state.schema.json is out of date; regenerate it with "
        "'uv run python -m pos_engine.schema > specs/session-state.schema.json'"
    )
