"""Hostile or broken workflow definitions cost that one workflow, never the server.

Each test is a row of issue 15's table: the broken project workflow is reported as
invalid with a reason, while the bundled workflows keep listing and starting, and
sessions of other workflows keep answering.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_engine import DefinitionError, WorkflowEngine
from pos_engine._definitions import bundled_workflows_dir
from pos_engine.testing.deadline import deadline

# slow: huge and pathological definitions (40,000-item arrays, deep YAML, FIFOs)
pytestmark = pytest.mark.slow

HOSTILE = "hostile_flow"
FIRST = 1
"""The first phase of test_generation_v3, which the hostile copies are made from."""


def copy_bundled(project: Path, name: str = HOSTILE) -> Path:
    """Copy the bundled test_generation_v3 into the project as workflow ``name``."""
    folder = project / ".praxis-os" / "workflows" / name
    shutil.copytree(bundled_workflows_dir() / "test_generation_v3", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["workflow_type"] = name
    meta.pop("aliases", None)
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


def edit_metadata(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    meta = json.loads((folder / "metadata.json").read_text())
    change(meta)
    (folder / "metadata.json").write_text(json.dumps(meta))


def first_schema(meta: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = meta["phases"][0]["checkpoint"]["evidence_schema"]
    return schema


def assert_only_that_workflow_is_lost(engine: WorkflowEngine, reason: str) -> None:
    """The hostile workflow is listed as invalid (with ``reason``); bundled ones still work."""
    with deadline(20):
        listing = engine.list_workflows()
        problems = {p["workflow_folder"]: p for p in listing.get("invalid_workflows", [])}
        assert HOSTILE in problems, listing
        assert reason in problems[HOSTILE]["message"]
        assert {"spec_creation_v1", "test_generation_v3"} <= {
            w["workflow_type"] for w in listing["workflows"]
        }
        started = engine.start_workflow("test_generation_v3", "src/calculator.py")
        phase = engine.get_current_phase(started["session_id"])
        assert phase["current_phase"] == started["current_phase"]
        with pytest.raises(DefinitionError, match="exists but is invalid"):
            engine.start_workflow(HOSTILE, "src/calculator.py")


def test_an_unresolvable_ref_makes_only_that_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_bundled(project)
    edit_metadata(folder, lambda m: first_schema(m).update({"$ref": "#/$defs/missing"}))

    assert_only_that_workflow_is_lost(engine, "does not resolve")


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_metadata_makes_only_that_workflow_invalid(
    engine: WorkflowEngine, project: Path, depth: int
) -> None:
    folder = copy_bundled(project)
    (folder / "metadata.json").write_text("[" * depth + "]" * depth)

    assert_only_that_workflow_is_lost(engine, "nests deeper than")


def test_deeply_nested_gate_yaml_makes_only_that_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_legacy(project)
    gate = "evidence_schema:\n  x: " + "[" * 5_000 + "]" * 5_000 + "\n"
    (folder / "phases" / "0" / "gate-definition.yaml").write_text(gate)

    assert_only_that_workflow_is_lost(engine, "nests deeper than")


def test_a_phase_page_linked_to_dev_zero_makes_only_that_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_bundled(project)
    page = folder / "phases" / str(FIRST) / "phase.md"
    page.unlink()
    page.symlink_to("/dev/zero")

    assert_only_that_workflow_is_lost(engine, "outside its folder")


def test_a_phase_page_that_is_a_fifo_makes_only_that_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_bundled(project)
    page = folder / "phases" / str(FIRST) / "phase.md"
    page.unlink()
    os.mkfifo(page)

    assert_only_that_workflow_is_lost(engine, "not a regular file")


def test_an_oversized_task_file_makes_only_that_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_bundled(project)
    task = next((folder / "phases" / str(FIRST)).glob("task-1-*.md"))
    task.write_text("x" * (2 * 1024 * 1024))

    assert_only_that_workflow_is_lost(engine, "bytes allowed")


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../outside.md"])
def test_definition_files_linked_outside_the_folder_are_never_served(
    engine: WorkflowEngine, project: Path, target: str
) -> None:
    folder = copy_bundled(project)
    (folder.parent / "outside.md").write_text("# Task 1: secret\n\nSECRET CONTENT\n")
    for victim in (
        folder / "phases" / str(FIRST) / "phase.md",
        next(folder.glob(f"phases/{FIRST}/task-1-*")),
    ):
        victim.unlink()
        victim.symlink_to(target)

    assert_only_that_workflow_is_lost(engine, "outside its folder")
    assert "SECRET" not in json.dumps(engine.list_workflows())


def test_a_link_inside_the_workflow_folder_is_followed(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_bundled(project)
    page = folder / "phases" / str(FIRST) / "phase.md"
    shutil.move(page, folder / "shared-phase.md")
    page.symlink_to("../../shared-phase.md")

    names = {w["workflow_type"] for w in engine.list_workflows()["workflows"]}

    assert HOSTILE in names


class Silent:
    """A TCP peer that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]

    def was_contacted(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except TimeoutError:
            return False
        conn.close()
        return True


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_remote_refs_are_refused_without_being_fetched(
    engine: WorkflowEngine, project: Path, scheme: str
) -> None:
    peer = Silent()
    ref = (
        f"http://127.0.0.1:{peer.port}/schema.json"
        if scheme == "http"
        else f"file://{project / 'secret.json'}"
    )
    (project / "secret.json").write_text('{"type": "object"}')
    folder = copy_bundled(project)
    edit_metadata(folder, lambda m: first_schema(m)["properties"].update({"x": {"$ref": ref}}))

    assert_only_that_workflow_is_lost(engine, "points outside the schema")
    assert not peer.was_contacted()
    peer.sock.close()


LEGACY_GATE = """checkpoint:
  strict: true
evidence_schema:
  done:
    type: boolean
    required: true
"""


def copy_legacy(project: Path, name: str = HOSTILE) -> Path:
    """Write a minimal legacy-format workflow ``name`` with one gated phase."""
    folder = project / ".praxis-os" / "workflows" / name
    (folder / "phases" / "0").mkdir(parents=True)
    meta = {
        "workflow_type": name,
        "version": "1.0.0",
        "name": "Hostile legacy",
        "description": "A legacy workflow for hostile-content tests.",
        "total_phases": 1,
        "phases": [
            {
                "phase_number": 0,
                "phase_name": "Only",
                "tasks": [{"task_number": 1, "name": "Do", "file": "task-1-do.md"}],
            }
        ],
    }
    (folder / "metadata.json").write_text(json.dumps(meta))
    (folder / "phases" / "0" / "phase.md").write_text("# Phase 0\n\nDo it.\n")
    (folder / "phases" / "0" / "task-1-do.md").write_text("# Task 1: Do\n\nDo it.\n")
    (folder / "phases" / "0" / "gate-definition.yaml").write_text(LEGACY_GATE)
    return folder


def test_yaml_aliases_are_refused_before_they_expand(engine: WorkflowEngine, project: Path) -> None:
    folder = copy_legacy(project)
    laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 10):
        prev = chr(ord("a") + n - 1)
        here = chr(ord("a") + n)
        laughs.append(f"{here}: &{here} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]")
    gate = LEGACY_GATE + "validators:\n" + "".join(f"  {line}\n" for line in laughs)
    gate += "  boom: *j\n"
    (folder / "phases" / "0" / "gate-definition.yaml").write_text(gate)

    assert_only_that_workflow_is_lost(engine, "YAML alias")


def test_a_60_kb_title_line_loads_in_linear_time(engine: WorkflowEngine, project: Path) -> None:
    folder = copy_bundled(project)
    task = next((folder / "phases" / str(FIRST)).glob("task-1-*.md"))
    lines = task.read_text().splitlines()
    spaces = " " * 60_000
    lines[0] = f"# Task 1: a{spaces}b"
    lines.append(f"### Step 9: a{spaces}b")
    lines.append(f"Expected output: a{spaces}b")
    task.write_text("\n".join(lines) + "\n")

    with deadline(10):
        listing = engine.list_workflows()

    problems = {p["workflow_folder"]: p["message"] for p in listing["invalid_workflows"]}
    assert "line 62" in problems[HOSTILE]


def test_a_60_kb_legacy_heading_parses_in_linear_time(
    engine: WorkflowEngine, project: Path
) -> None:
    folder = copy_legacy(project)
    spaces = " " * 60_000
    text = (
        f"# Task 1: a{spaces}b\n\n### {spaces}Step 1: a{spaces}b\n\n1. a{spaces}b\n\n"
        f"expected{spaces}output: a{spaces}b\n"
    )
    (folder / "phases" / "0" / "task-1-do.md").write_text(text)

    with deadline(10):
        names = {w["workflow_type"] for w in engine.list_workflows()["workflows"]}

    assert HOSTILE in names


def pattern_workflow(project: Path, schema: dict[str, Any], example: dict[str, Any]) -> None:
    folder = copy_bundled(project)

    def change(meta: dict[str, Any]) -> None:
        checkpoint = meta["phases"][0]["checkpoint"]
        checkpoint.update(
            required_evidence=["value"],
            evidence_schema={"type": "object", "required": ["value"], "properties": schema},
            evidence_example=example,
        )

    edit_metadata(folder, change)


def test_a_catastrophic_pattern_runs_in_linear_time(engine: WorkflowEngine, project: Path) -> None:
    pattern_workflow(project, {"value": {"type": "string", "pattern": "^(a+)+$"}}, {"value": "aaa"})
    sid = engine.start_workflow(HOSTILE, "src/calculator.py")["session_id"]

    with deadline(10):
        result = engine.complete_phase(sid, FIRST, {"value": "a" * 5_000 + "!"})

    assert result["checkpoint_passed"] is False
    assert result["validation_errors"][0]["keyword"] == "pattern"


def test_names_beside_a_catastrophic_pattern_property_are_matched_in_linear_time(
    engine: WorkflowEngine, project: Path
) -> None:
    # jsonschema's own additionalProperties matches patternProperties with Python's re.
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {}}, "additionalProperties": False}
    pattern_workflow(project, {"value": schema}, {"value": {"aaa": 1}})
    sid = engine.start_workflow(HOSTILE, "src/calculator.py")["session_id"]

    with deadline(10):
        result = engine.complete_phase(sid, FIRST, {"value": {"a" * 5_000 + "!": 1}})

    assert result["checkpoint_passed"] is False
    error = result["validation_errors"][0]
    assert error["keyword"] == "additionalProperties"
    assert "does not match any of the regexes: '^(a+)+$'" in error["message"]
    assert len(error["message"]) < 200


def test_unevaluated_properties_beside_pattern_properties_makes_the_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    schema = {"type": "object", "patternProperties": {"^a": {}}, "unevaluatedProperties": False}
    pattern_workflow(project, {"value": schema}, {"value": {"a": 1}})

    assert_only_that_workflow_is_lost(engine, "use additionalProperties beside patternProperties")


def test_a_pattern_the_linear_engine_cannot_run_makes_the_workflow_invalid(
    engine: WorkflowEngine, project: Path
) -> None:
    pattern_workflow(project, {"value": {"type": "string", "pattern": "^(a)\\1$"}}, {"value": "aa"})

    assert_only_that_workflow_is_lost(engine, "linear-time regex engine")


def test_unique_items_over_40000_mixed_items_is_linear(
    engine: WorkflowEngine, project: Path
) -> None:
    pattern_workflow(
        project, {"value": {"type": "array", "uniqueItems": True}}, {"value": [1, "1", True]}
    )
    sid = engine.start_workflow(HOSTILE, "src/calculator.py")["session_id"]
    items: list[Any] = [i if i % 2 else {"k": i} for i in range(40_000)]

    with deadline(10):
        distinct = engine.complete_phase(sid, FIRST, {"value": items})
        engine.rollback(sid, FIRST)
        repeated = engine.complete_phase(sid, FIRST, {"value": [*items, 1.0]})

    assert distinct["checkpoint_passed"] is True
    assert repeated["checkpoint_passed"] is False
    assert "item 40000 equals item 1" in repeated["validation_errors"][0]["message"]


def test_unique_items_keeps_json_schema_equality(engine: WorkflowEngine, project: Path) -> None:
    pattern_workflow(
        project, {"value": {"type": "array", "uniqueItems": True}}, {"value": [1, "1", True]}
    )
    sid = engine.start_workflow(HOSTILE, "src/calculator.py")["session_id"]
    verdicts = {}
    for label, value in {
        "true and 1 differ": [True, 1],
        "1 and 1.0 are equal": [1, 1.0],
        "key order does not matter": [{"a": 1, "b": 2}, {"b": 2, "a": 1}],
        "nested arrays compare by order": [[1, 2], [2, 1]],
    }.items():
        engine.rollback(sid, FIRST)
        verdicts[label] = engine.complete_phase(sid, FIRST, {"value": value})["checkpoint_passed"]

    assert verdicts == {
        "true and 1 differ": True,
        "1 and 1.0 are equal": False,
        "key order does not matter": False,
        "nested arrays compare by order": True,
    }


def test_100000_bad_items_give_a_bounded_answer_and_session(
    engine: WorkflowEngine, project: Path
) -> None:
    sid = engine.start_workflow("test_generation_v3", "src/calculator.py")["session_id"]
    evidence = {"code_structure": {"functions": [{}] * 100_000}, "test_candidates": []}

    with deadline(30):
        result = engine.complete_phase(sid, 1, evidence)

    assert result["checkpoint_passed"] is False
    assert len(result["validation_errors"]) == 20
    assert result["validation_error_count"] == 1000
    assert "only the first 20 of 1000+ errors are listed" in result["remediation"]
    assert len(json.dumps(result)) < 64 * 1024
    # The evidence itself is kept (300 KB); the recorded error stays small.
    assert len(engine.store.load(sid).model_dump_json()) < 1024 * 1024
    assert (
        len(engine.state_manager.get_errors(sid)["last_error"]["details"]["validation_errors"])
        == 20
    )
