"""The files made from the action table are up to date, and a stale one is caught."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pos_tool import _actions, _generated
from pos_tool._generated import GENERATED_FILES, request_schema, stale_generated_files

REPO = Path(__file__).resolve().parents[3]


def test_every_generated_file_is_what_the_table_renders() -> None:
    assert stale_generated_files(REPO) == [], (
        "run: uv run python scripts/contracts.py --write-generated"
    )


def _copy(tmp_path: Path) -> Path:
    for relative in GENERATED_FILES:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / relative, tmp_path / relative)
    return tmp_path


def test_a_hand_edited_or_missing_generated_file_is_stale(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    schema = root / "specs/pos_workflow/request.schema.json"
    schema.write_text(schema.read_text().replace('"minimum": 1', '"minimum": 2'))
    (root / "docs/examples/actions-table.md").unlink()

    assert stale_generated_files(root) == [
        "specs/pos_workflow/request.schema.json",
        "docs/examples/actions-table.md",
    ]


def test_a_new_action_in_the_table_makes_every_generated_file_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy(tmp_path)
    added = dataclasses.replace(_actions.ACTIONS["get_errors"], name="get_metrics")
    monkeypatch.setattr(_generated, "ACTIONS", {**_actions.ACTIONS, "get_metrics": added})
    monkeypatch.setattr(_generated, "VALID_ACTIONS", (*_actions.VALID_ACTIONS, "get_metrics"))

    assert stale_generated_files(root) == list(GENERATED_FILES)
    schema = request_schema()
    assert "get_metrics" in schema["properties"]["action"]["enum"]
    assert schema["x-parameters-by-action"]["get_metrics"] == {
        "required": ["session_id"],
        "optional": [],
    }


def test_the_generated_contract_enforces_each_actions_parameters() -> None:
    validator = Draft202012Validator(request_schema())
    assert validator.is_valid(
        {"action": "get_task", "session_id": "s1", "phase": 0, "task_number": 1}
    )
    assert not validator.is_valid({"action": "get_task", "session_id": "s1", "phase": 0})
    assert not validator.is_valid(
        {"action": "start", "workflow_type": "x", "target_file": "a.py", "phase": 1}
    )
    assert not validator.is_valid({"action": "get_phase", "session_id": "Not An Id"})
    assert validator.is_valid({"action": "list_sessions", "status": None, "session_id": None})
    assert json.loads(_generated.request_schema_text()) == request_schema()
