"""Workflow definitions: validation, discovery along the search path, caching."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from pos_engine import (
    DefinitionError,
    FileSessionStore,
    NotFoundError,
    StateManager,
    WorkflowEngine,
    WorkflowRegistry,
)
from pos_engine._definitions import bundled_workflows_dir, definition_schema, load_definition

REPO = Path(__file__).resolve().parents[3]

TASK = """# Task 1: Do the thing

**Estimated duration:** 5 minutes

Do the thing carefully.

## Execution steps

### Step 1: Look
Command: `ls {target_file}`
Expected output: The file.

## Artifacts to produce

- `done`: Whether it was done.
"""


def metadata(workflow_type: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "workflow_type": workflow_type,
        "version": "1.0.0",
        "name": f"{workflow_type} workflow",
        "description": "A tiny workflow for tests.",
        "category": "testing",
        "start_phase": 1,
        "phases": [
            {
                "number": 1,
                "title": "Only phase",
                "purpose": "Do one thing.",
                "tasks": [{"number": 1, "name": "do-it", "file": "task-1-do-it.md"}],
                "checkpoint": {
                    "required_evidence": ["done"],
                    "evidence_schema": {
                        "type": "object",
                        "required": ["done"],
                        "properties": {"done": {"type": "boolean", "const": True}},
                    },
                    "validation": "done must be true.",
                    "evidence_example": {"done": True},
                },
            }
        ],
    }
    data.update(overrides)
    return data


def write_workflow(base: Path, workflow_type: str, **overrides: Any) -> Path:
    folder = base / workflow_type
    (folder / "phases" / "1").mkdir(parents=True)
    (folder / "metadata.json").write_text(json.dumps(metadata(workflow_type, **overrides)))
    (folder / "phases" / "1" / "phase.md").write_text("# Phase 1: Only phase\n")
    (folder / "phases" / "1" / "task-1-do-it.md").write_text(TASK)
    return folder


def test_the_packaged_definition_schema_equals_the_spec() -> None:
    spec = REPO / "specs" / "workflow-definition.schema.json"
    assert definition_schema() == json.loads(spec.read_text())


def test_bundled_workflows_validate_against_the_schema() -> None:
    for folder in sorted(p for p in bundled_workflows_dir().iterdir() if p.is_dir()):
        definition = load_definition(folder, "bundled")
        assert definition.workflow_type == folder.name
        assert all(len(p.tasks) >= 1 for p in definition.phases)


def test_a_project_workflow_overrides_the_bundled_one_of_the_same_type(tmp_path: Path) -> None:
    write_workflow(tmp_path / ".praxis-os" / "workflows", "test_generation_v3", category="testing")
    registry = WorkflowRegistry(tmp_path)
    found = registry.get("test_generation_v3")
    assert (found.source, found.category) == ("project", "testing")


def test_search_path_order_is_project_then_universal_then_bundled(tmp_path: Path) -> None:
    write_workflow(tmp_path / "universal" / "workflows", "shared_v1", name="from universal")
    write_workflow(tmp_path / ".praxis-os" / "workflows", "shared_v1", name="from project")
    write_workflow(tmp_path / "universal" / "workflows", "only_universal_v1")
    registry = WorkflowRegistry(tmp_path)
    assert registry.get("shared_v1").name == "from project"
    assert registry.get("only_universal_v1").source == "universal"


def test_a_broken_definition_is_reported_and_does_not_hide_the_others(tmp_path: Path) -> None:
    base = tmp_path / ".praxis-os" / "workflows"
    write_workflow(base, "good_v1")
    write_workflow(base, "bad_v1", category="Not A Category")
    engine = WorkflowEngine.for_project(tmp_path, durable=False)
    result = engine.list_workflows()
    types = [w["workflow_type"] for w in result["workflows"]]
    assert "good_v1" in types and "bad_v1" not in types and "test_generation_v3" in types
    [problem] = result["invalid_workflows"]
    assert problem["workflow_folder"] == "bad_v1"
    assert problem["field"] == "/category"
    assert str(tmp_path) not in json.dumps(result)
    with pytest.raises(DefinitionError, match="exists but is invalid"):
        engine.start_workflow("bad_v1", "a.py")


@pytest.mark.parametrize(
    ("mutate", "field", "match"),
    [
        (lambda f: (f / "metadata.json").write_text("{nope"), "metadata.json", "not valid JSON"),
        (lambda f: (f / "phases/1/phase.md").unlink(), "phases/1/phase.md", "cannot read"),
        (
            lambda f: (f / "phases/1/task-1-do-it.md").write_text("# Task 1\n"),
            "phases[1].tasks[1].file",
            "Task",
        ),
        (
            lambda f: _patch(f, lambda m: m.update(workflow_type="other_v1")),
            "/workflow_type",
            "differs",
        ),
        (
            lambda f: _patch(f, lambda m: m["phases"][0].update(number=4)),
            "phases[1].number",
            "consecutively",
        ),
        (
            lambda f: _patch(f, lambda m: m["phases"][0]["tasks"][0].update(number=2)),
            "phases[1].tasks[1].number",
            "numbered from 1",
        ),
        (
            lambda f: _patch(
                f, lambda m: m["phases"][0]["checkpoint"].update(evidence_example={"done": False})
            ),
            "phases[1].checkpoint.evidence_example",
            "does not pass",
        ),
        (
            lambda f: _patch(
                f,
                lambda m: m["phases"][0]["checkpoint"]["evidence_schema"]["properties"].update(
                    done={"type": 5}
                ),
            ),
            "phases[1].checkpoint.evidence_schema",
            "not a valid JSON Schema",
        ),
        (
            lambda f: _patch(
                f, lambda m: m["phases"][0]["checkpoint"].update(required_evidence=["done", "more"])
            ),
            "phases[1].checkpoint.required_evidence",
            "absent from evidence_schema",
        ),
        (lambda f: _patch(f, lambda m: m.pop("phases")), "/", "'phases' is a required property"),
    ],
)
def test_each_kind_of_broken_definition_names_the_failing_field(
    tmp_path: Path, mutate: Any, field: str, match: str
) -> None:
    folder = write_workflow(tmp_path, "demo_v1")
    mutate(folder)
    with pytest.raises(DefinitionError, match=match) as caught:
        load_definition(folder, "project")
    assert caught.value.details["field"] == field


def _patch(folder: Path, change: Any) -> None:
    path = folder / "metadata.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_edit_inside_a_workflow_is_seen_within_the_recheck_bound(tmp_path: Path) -> None:
    folder = write_workflow(tmp_path / ".praxis-os" / "workflows", "live_v1")
    clock = FakeClock()
    registry = WorkflowRegistry(tmp_path, recheck_seconds=1.0, clock=clock)
    first = registry.get("live_v1")
    assert registry.get("live_v1") is first  # cached while nothing changed
    _patch(folder, lambda m: m.update(name="renamed"))
    stat = (folder / "metadata.json").stat()
    os.utime(folder / "metadata.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    clock.now += 0.999
    assert registry.get("live_v1") is first  # inside the bound the index answers
    clock.now += 0.001
    assert registry.get("live_v1").name == "renamed"
    assert registry.get("live_v1") in registry.workflows()


def test_get_phase_shows_an_edited_phase_page_once_the_edit_is_seen(tmp_path: Path) -> None:
    # phase_content renders a phase once and keeps it: an edit must still reach the agent.
    folder = write_workflow(tmp_path / ".praxis-os" / "workflows", "live_v1")
    clock = FakeClock()
    registry = WorkflowRegistry(tmp_path, recheck_seconds=1.0, clock=clock)
    store = FileSessionStore(tmp_path / "sessions", durable=False)
    engine = WorkflowEngine(registry, StateManager(store, registry))
    first = engine.start_workflow("live_v1", "src/a.py")
    second = engine.start_workflow("live_v1", "src/b.py")
    page = "# Phase 1: Only phase\n"
    for sid in (first["session_id"], second["session_id"]):
        assert engine.get_current_phase(sid)["phase_content"]["content"] == page

    page_file = folder / "phases" / "1" / "phase.md"
    page_file.write_text("# Phase 1: Only phase\n\nRead the new rule first.\n")
    stat = page_file.stat()
    os.utime(page_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    clock.now += registry.recheck_seconds
    for sid in (first["session_id"], second["session_id"]):
        content = engine.get_current_phase(sid)["phase_content"]
        assert content["content"].endswith("Read the new rule first.\n")
        assert content["artifacts_from_previous_phases"] == {}


def test_lookups_between_rechecks_walk_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_workflow(tmp_path / ".praxis-os" / "workflows", "live_v1")
    clock = FakeClock()
    registry = WorkflowRegistry(tmp_path, clock=clock)
    registry.workflows()
    walks: list[object] = []
    real_walk = os.walk
    monkeypatch.setattr(os, "walk", lambda *a, **k: walks.append(a) or real_walk(*a, **k))
    for _ in range(3):
        registry.get("live_v1")
        registry.workflows()
        registry.problems()
    assert walks == []
    assert registry.fresh()
    clock.now += registry.recheck_seconds
    assert not registry.fresh()
    registry.workflows()
    assert len(walks) == len(registry.workflows()) + len(registry.problems())
    assert registry.fresh()


def test_a_workflow_added_or_removed_is_seen_within_the_recheck_bound(tmp_path: Path) -> None:
    base = tmp_path / ".praxis-os" / "workflows"
    write_workflow(base, "one_v1")
    clock = FakeClock()
    registry = WorkflowRegistry(tmp_path, clock=clock)
    assert "one_v1" in [w.workflow_type for w in registry.workflows()]
    write_workflow(base, "two_v1")
    shutil.rmtree(base / "one_v1")
    clock.now += registry.recheck_seconds
    listed = [w.workflow_type for w in registry.workflows()]
    assert ("one_v1" in listed, "two_v1" in listed) == (False, True)


def test_an_unknown_name_makes_the_index_look_again(tmp_path: Path) -> None:
    base = tmp_path / ".praxis-os" / "workflows"
    base.mkdir(parents=True)
    clock = FakeClock()
    registry = WorkflowRegistry(tmp_path, clock=clock)
    registry.workflows()
    write_workflow(base, "late_v1")
    assert registry.get("late_v1").workflow_type == "late_v1"  # the clock never moved


def test_invalidate_makes_the_next_lookup_walk_again(tmp_path: Path) -> None:
    folder = write_workflow(tmp_path / ".praxis-os" / "workflows", "live_v1")
    registry = WorkflowRegistry(tmp_path, clock=FakeClock())
    registry.get("live_v1")
    _patch(folder, lambda m: m.update(name="renamed"))
    stat = (folder / "metadata.json").stat()
    os.utime(folder / "metadata.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    registry.invalidate()
    assert not registry.fresh()
    assert registry.get("live_v1").name == "renamed"


@pytest.mark.slow
def test_a_removed_workflow_disappears_and_a_new_one_appears(tmp_path: Path) -> None:
    base = tmp_path / ".praxis-os" / "workflows"
    folder = write_workflow(base, "gone_v1")
    clock = FakeClock()
    registry = WorkflowRegistry(tmp_path, clock=clock)
    registry.get("gone_v1")
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    write_workflow(base, "new_v1")
    clock.now += registry.recheck_seconds
    with pytest.raises(NotFoundError):
        registry.get("gone_v1")
    assert registry.get("new_v1").workflow_type == "new_v1"


def test_list_filters_by_category_and_problems_lists_invalid_folders(tmp_path: Path) -> None:
    base = tmp_path / ".praxis-os" / "workflows"
    write_workflow(base, "one_v1")
    write_workflow(base, "broken_v1", version="one")
    registry = WorkflowRegistry(tmp_path)
    assert [w.workflow_type for w in registry.workflows("testing")] == ["one_v1"]
    assert [p.workflow_folder for p in registry.problems()] == ["broken_v1"]


def test_phase_and_task_lookups_name_the_valid_range(tmp_path: Path) -> None:
    definition = load_definition(write_workflow(tmp_path, "demo_v1"), "project")
    with pytest.raises(NotFoundError, match="its phases are 1-1"):
        definition.phase(2)
    with pytest.raises(NotFoundError, match="it has tasks 1-1"):
        definition.phase(1).task(3)


def test_a_broken_project_override_shadows_the_bundled_workflow_and_is_reported(
    tmp_path: Path,
) -> None:
    write_workflow(tmp_path / ".praxis-os" / "workflows", "test_generation_v3", version="bad")
    engine = WorkflowEngine.for_project(tmp_path, durable=False)
    listing = engine.list_workflows()
    assert "test_generation_v3" not in [w["workflow_type"] for w in listing["workflows"]]
    assert [p["workflow_folder"] for p in listing["invalid_workflows"]] == ["test_generation_v3"]
    with pytest.raises(DefinitionError, match="exists but is invalid"):
        engine.start_workflow("test_generation_v3", "a.py")
