"""The engine's operations over a real file store in a temporary project."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pos_engine import (
    FileSessionStore,
    LimitError,
    NotFoundError,
    StateError,
    ValidationError,
    WorkflowEngine,
)
from pos_engine.schema import session_state_schema
from pos_engine.testing.drive import FakeClock, complete_all, example_evidence

TG = "test_generation_v3"
SPEC = "spec_creation_v1"


def start(
    engine: WorkflowEngine, workflow: str = TG, target: str = "src/calculator.py"
) -> dict[str, Any]:
    return engine.start_workflow(workflow, target)


@pytest.mark.slow
def test_list_workflows_returns_both_bundled_workflows_with_their_metadata(
    engine: WorkflowEngine,
) -> None:
    result = engine.list_workflows()
    by_type = {w["workflow_type"]: w for w in result["workflows"]}
    assert {TG, SPEC} <= set(by_type)
    assert result["count"] == len(result["workflows"])
    assert by_type[TG]["category"] == "code_generation"
    assert by_type[SPEC]["category"] == "documentation"
    assert by_type[TG]["start_phase"] == 1
    assert by_type[SPEC]["start_phase"] == 0
    assert by_type[TG]["source"] == "bundled"
    assert by_type[TG]["format"] == "pos"
    for workflow in result["workflows"]:
        assert workflow["phases"] and workflow["estimated_duration"]


@pytest.mark.slow
def test_list_workflows_filters_by_category(engine: WorkflowEngine) -> None:
    result = engine.list_workflows("code_generation")
    assert [w["category"] for w in result["workflows"]] == ["code_generation"] * result["count"]
    assert TG in [w["workflow_type"] for w in result["workflows"]]
    assert engine.list_workflows("no_such_category")["count"] == 0


def test_list_workflows_rejects_a_non_string_category(engine: WorkflowEngine) -> None:
    with pytest.raises(ValidationError, match="category must be a string"):
        engine.list_workflows(7)


def test_start_stores_a_session_and_returns_phase_one(engine: WorkflowEngine) -> None:
    result = start(engine)
    assert result["current_phase"] == 1
    assert result["session_status"] == "active"
    assert result["phase_content"]["phase"] == 1
    stored = engine.store.load(result["session_id"])
    assert (stored.version, stored.current_phase, stored.status) == (1, 1, "active")
    assert result["session_id"].startswith("test_generation_v3_calculator_py_")


@pytest.mark.slow
def test_the_default_store_is_the_projects_session_folder(project: Path) -> None:
    engine = WorkflowEngine.for_project(project, durable=False)
    result = start(engine)
    state_file = project / ".praxis-os" / "state" / "workflows" / f"{result['session_id']}.json"
    assert state_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_start_resolves_a_workflow_alias_to_its_canonical_type(engine: WorkflowEngine) -> None:
    result = engine.start_workflow("test_gen_v3", "test.py")
    assert result["workflow_type"] == TG


def test_start_rejects_an_unknown_workflow_and_lists_the_available_ones(
    engine: WorkflowEngine,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        engine.start_workflow("nope_v1", "a.py")
    assert TG in caught.value.message and caught.value.remediation


def test_start_rejects_a_traversal_target_before_creating_anything(engine: WorkflowEngine) -> None:
    with pytest.raises(ValidationError, match="directory traversal"):
        engine.start_workflow(TG, "../../etc/passwd")
    assert engine.state_manager.list_sessions()["count"] == 0


def test_start_rejects_options_that_are_not_an_object(engine: WorkflowEngine) -> None:
    with pytest.raises(ValidationError, match="options must be a JSON object"):
        engine.start_workflow(TG, "a.py", options=["x"])


def test_start_rejects_oversized_options(engine: WorkflowEngine) -> None:
    with pytest.raises(LimitError, match="too large"):
        engine.start_workflow(TG, "a.py", options={"blob": "x" * 70_000})


def test_phase_content_carries_the_checkpoint_contract(engine: WorkflowEngine) -> None:
    content = start(engine)["phase_content"]
    checkpoint = content["checkpoint"]
    assert checkpoint["required_evidence"] == ["code_structure", "test_candidates"]
    assert checkpoint["evidence_schema"]["type"] == "object"
    assert checkpoint["validation"]
    assert content["tasks"] and content["task_count"] == len(content["tasks"])
    assert content["artifacts_from_previous_phases"] == {}


@pytest.mark.parametrize("workflow", [TG, SPEC])
def test_a_bundled_workflow_runs_from_start_to_completion(
    engine: WorkflowEngine, workflow: str
) -> None:
    started = start(engine, workflow)
    sid = started["session_id"]
    results = complete_all(engine, sid)
    state = engine.get_workflow_state(sid)
    first = started["start_phase"]
    assert len(results) == started["total_phases"]
    assert state["session_status"] == "completed"
    assert state["completed_phases"] == list(range(first, first + started["total_phases"]))
    assert state["resume_capable"] is False
    assert set(state["artifacts"]) == {str(p) for p in state["completed_phases"]}
    assert results[-1]["next_phase"] is None and "phase_content" not in results[-1]


def test_each_phase_shows_artifacts_of_the_earlier_phases(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    evidence = example_evidence(started)
    done = engine.complete_phase(sid, 1, evidence)
    assert done["phase_content"]["artifacts_from_previous_phases"] == {"1": evidence}
    assert engine.get_current_phase(sid)["phase_content"]["artifacts_from_previous_phases"] == {
        "1": evidence
    }


def test_get_task_returns_parsed_steps_with_the_target_substituted(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    result = engine.get_task(sid, 1, 1)
    task = result["task_content"]
    assert task["title"] and task["description"] and task["estimated_duration"]
    assert task["artifacts_to_produce"]
    for number, step in enumerate(task["execution_steps"], start=1):
        assert set(step) == {"step", "title", "command", "description", "expected_output"}
        assert step["step"] == number
        assert "{target_file}" not in (step["command"] or "")
    assert result["next_task"] == (2 if result["total_tasks"] > 1 else None)


def test_every_task_of_every_bundled_workflow_parses(engine: WorkflowEngine) -> None:
    for workflow in (TG, SPEC):
        started = start(engine, workflow)
        sid = started["session_id"]
        for _ in range(started["total_phases"]):
            current = engine.get_current_phase(sid)
            phase = current["current_phase"]
            for task in current["phase_content"]["tasks"]:
                assert engine.get_task(sid, phase, task["task_number"])["task_content"][
                    "execution_steps"
                ]
            engine.complete_phase(sid, phase, example_evidence(current))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("phase", "task", "error", "match"),
    [
        (1, 99, NotFoundError, "task_number 99 does not exist in phase 1"),
        (42, 1, NotFoundError, "phase 42 does not exist"),
        (2, 1, StateError, "phase 2 is not reached yet"),
        ("1", 1, ValidationError, "phase must be an integer"),
        (1, True, ValidationError, "task_number must be an integer"),
    ],
)
def test_get_task_out_of_range_says_what_is_allowed(
    engine: WorkflowEngine, phase: object, task: object, error: type[Exception], match: str
) -> None:
    sid = start(engine)["session_id"]
    with pytest.raises(error, match=match):
        engine.get_task(sid, phase, task)


def test_a_failing_checkpoint_records_the_error_and_does_not_advance(
    engine: WorkflowEngine,
) -> None:
    sid = start(engine)["session_id"]
    result = engine.complete_phase(sid, 1, {"code_structure": {"module": "calculator"}})
    assert result["checkpoint_passed"] is False
    assert result["missing_evidence"] == ["test_candidates"]
    assert result["error_type"] == "ValidationError"
    assert "test_candidates" in result["remediation"]
    assert result["session_status"] == "failed"
    state = engine.get_workflow_state(sid)
    assert (state["current_phase"], state["completed_phases"]) == (1, [])
    errors = engine.state_manager.get_errors(sid)
    assert errors["error_count"] == 1
    recorded = errors["errors"][0]
    assert recorded["phase"] == 1 and recorded["error_type"] == "CheckpointFailed"
    assert recorded["details"]["missing_evidence"] == ["test_candidates"]
    assert recorded["remediation"]


def test_schema_errors_are_reported_with_json_pointers(engine: WorkflowEngine) -> None:
    started = start(engine)
    evidence = copy.deepcopy(example_evidence(started))
    evidence["test_candidates"] = evidence["test_candidates"][:2]
    result = engine.complete_phase(started["session_id"], 1, evidence)
    assert result["checkpoint_passed"] is False
    assert result["missing_evidence"] == []
    assert any(e["pointer"] == "/test_candidates" for e in result["validation_errors"])


@pytest.mark.slow
def test_empty_evidence_fails_closed_naming_every_required_field(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    result = engine.complete_phase(sid, 1, {})
    assert result["missing_evidence"] == ["code_structure", "test_candidates"]


@pytest.mark.slow
def test_null_evidence_values_count_as_missing(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    result = engine.complete_phase(sid, 1, {"code_structure": None, "test_candidates": None})
    assert result["missing_evidence"] == ["code_structure", "test_candidates"]


@pytest.mark.slow
def test_fail_then_retry_then_succeed(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    engine.complete_phase(sid, 1, {})
    retry = engine.retry_phase(sid, 1)
    assert retry["retrying"] is True and retry["attempt"] == 2
    assert len(retry["previous_errors"]) == 1
    assert retry["phase_content"]["phase"] == 1
    assert retry["session_status"] == "active"
    done = engine.complete_phase(sid, 1, example_evidence(started))
    assert done["checkpoint_passed"] is True and done["next_phase"] == 2
    history = engine.state_manager.get_session(sid)["session"]["phase_history"]
    assert [(h["phase"], h["attempt"], h["status"]) for h in history] == [
        (1, 1, "failed"),
        (1, 2, "passed"),
        (2, 1, "in_progress"),
    ]


def test_a_new_complete_phase_attempt_after_failure_needs_no_retry(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    engine.complete_phase(sid, 1, {})
    done = engine.complete_phase(sid, 1, example_evidence(started))
    assert done["checkpoint_passed"] is True


def test_retry_phase_can_reset_the_stored_evidence(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    engine.complete_phase(sid, 1, {"code_structure": {}})
    retry = engine.retry_phase(sid, 1, reset_evidence=True)
    assert retry["evidence_reset"] is True
    assert engine.state_manager.get_session(sid)["session"]["evidence_phases"] == []


def test_retry_phase_twice_opens_only_one_new_attempt(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    engine.complete_phase(sid, 1, {})
    first = engine.retry_phase(sid, 1)
    second = engine.retry_phase(sid, 1)
    assert (first["attempt"], second["attempt"]) == (2, 2)
    assert (first["new_attempt_opened"], second["new_attempt_opened"]) == (True, False)


@pytest.mark.slow
def test_retry_phase_only_retries_the_current_phase(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    with pytest.raises(StateError, match="retries only the current phase"):
        engine.retry_phase(sid, 2)
    with pytest.raises(ValidationError, match="reset_evidence must be true or false"):
        engine.retry_phase(sid, 1, reset_evidence="yes")


@pytest.mark.slow
def test_completing_a_phase_that_is_not_current_is_a_state_error(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    with pytest.raises(
        StateError, match=r"phase 3 is not the current phase \(1\); complete phase 1 first"
    ):
        engine.complete_phase(sid, 3, {})


def test_repeating_a_passed_completion_returns_the_same_success_without_writing(
    engine: WorkflowEngine,
) -> None:
    started = start(engine)
    sid = started["session_id"]
    evidence = example_evidence(started)
    first = engine.complete_phase(sid, 1, evidence)
    version = engine.store.load(sid).version
    again = engine.complete_phase(sid, 1, evidence)
    assert again == first
    assert engine.store.load(sid).version == version


def test_completing_a_completed_phase_with_other_passing_evidence_says_to_roll_back(
    engine: WorkflowEngine,
) -> None:
    started = start(engine)
    sid = started["session_id"]
    evidence = example_evidence(started)
    engine.complete_phase(sid, 1, evidence)
    other = copy.deepcopy(evidence)
    other["test_candidates"].append({"name": "extra", "reason": "one more candidate to test"})
    with pytest.raises(StateError, match="already completed") as caught:
        engine.complete_phase(sid, 1, other)
    assert "rollback" in caught.value.remediation


@pytest.mark.slow
def test_failing_evidence_for_a_completed_phase_gets_the_checkpoint_answer_and_changes_nothing(
    engine: WorkflowEngine,
) -> None:
    started = start(engine)
    sid = started["session_id"]
    engine.complete_phase(sid, 1, example_evidence(started))
    version = engine.store.load(sid).version
    result = engine.complete_phase(sid, 1, {"code_structure": {"module": "calculator"}})
    assert result["checkpoint_passed"] is False
    assert result["recorded"] is False
    assert result["missing_evidence"] == ["test_candidates"]
    assert "nothing was recorded" in result["error"] and "rollback" in result["remediation"]
    assert result["session_status"] == "active"
    assert engine.store.load(sid).version == version
    assert engine.get_workflow_state(sid)["error_count"] == 0


def test_the_last_completion_repeated_on_a_completed_session_is_the_same_success(
    engine: WorkflowEngine,
) -> None:
    sid = start(engine, SPEC)["session_id"]
    results = complete_all(engine, sid)
    last = engine.get_workflow_state(sid)["completed_phases"][-1]
    evidence = engine.get_workflow_state(sid)["artifacts"][str(last)]
    assert engine.complete_phase(sid, last, evidence) == results[-1]


@pytest.mark.slow
def test_evidence_must_be_an_object_and_not_too_large(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    with pytest.raises(ValidationError, match="evidence must be a JSON object"):
        engine.complete_phase(sid, 1, ["a"])
    with pytest.raises(LimitError, match="too large"):
        engine.complete_phase(sid, 1, {"data": "x" * (11 * 1024 * 1024)})
    assert engine.get_workflow_state(sid)["error_count"] == 0


def test_evidence_and_options_whose_keys_cannot_be_ordered_are_refused_with_a_fix(
    engine: WorkflowEngine,
) -> None:
    # Their digest is taken of sorted keys: an int key beside a str key is refused up front.
    sid = start(engine)["session_id"]
    before = engine.store.load(sid)
    with pytest.raises(ValidationError, match="with text keys; key '1' is int") as info:
        engine.complete_phase(sid, 1, {1: "a", "b": 2})
    assert "string keys" in info.value.remediation
    with pytest.raises(ValidationError, match="must be plain JSON") as info:
        engine.complete_phase(sid, 1, {"nested": {1: "a", "b": 2}})
    assert "text keys" in info.value.remediation
    assert engine.store.load(sid) == before
    with pytest.raises(ValidationError, match="must be plain JSON"):
        engine.start_workflow(SPEC, "docs/y.md", {"nested": {1: "a", "b": 2}})


def test_one_complete_phase_reads_the_gate_settings_once(
    engine: WorkflowEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Judging the evidence, the update and the answer see one gates.json, however many
    # times the file changes meanwhile.
    import pos_engine._engine as engine_module  # noqa: PLC0415 - the name patched

    sid = start(engine)["session_id"]
    evidence = example_evidence(engine.get_current_phase(sid))
    real = engine_module.load_gate_settings
    reads: list[object] = []

    def counting(root: Any) -> Any:
        reads.append(root)
        return real(root)

    monkeypatch.setattr(engine_module, "load_gate_settings", counting)
    assert engine.complete_phase(sid, 1, evidence)["checkpoint_passed"] is True
    assert len(reads) == 1


def test_pause_and_resume_report_the_paused_duration(
    engine: WorkflowEngine, clock: FakeClock
) -> None:
    sid = start(engine)["session_id"]
    paused = engine.state_manager.pause_session(sid, "Waiting for review")
    assert paused["paused"] is True and paused["resume_capable"] is True
    assert paused["checkpoint"]["note"] == "Waiting for review"
    assert paused["checkpoint"]["phase"] == 1
    assert engine.state_manager.list_sessions("paused")["count"] == 1
    clock.advance(90.5)
    resumed = engine.state_manager.resume_session(sid)
    assert resumed["resumed"] is True
    assert resumed["paused_duration_seconds"] == 90.5
    assert resumed["current_phase"] == 1 and resumed["phase_content"]["phase"] == 1
    assert engine.get_workflow_state(sid)["session_status"] == "active"


@pytest.mark.slow
def test_a_paused_session_refuses_work_until_resumed(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    engine.state_manager.pause_session(sid)
    with pytest.raises(StateError, match="is 'paused'") as caught:
        engine.complete_phase(sid, 1, example_evidence(started))
    assert "resume" in caught.value.remediation
    with pytest.raises(StateError, match="pause needs a session that is 'active'"):
        engine.state_manager.pause_session(sid)


def test_resuming_an_active_session_is_a_state_error_naming_the_allowed_moves(
    engine: WorkflowEngine,
) -> None:
    sid = start(engine)["session_id"]
    with pytest.raises(StateError) as caught:
        engine.state_manager.resume_session(sid)
    assert "'active'" in caught.value.message
    assert "complete_phase" in caught.value.remediation


def test_rollback_clears_artifacts_of_later_phases(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    one = engine.complete_phase(sid, 1, example_evidence(started))
    engine.complete_phase(sid, 2, example_evidence(one))
    result = engine.rollback(sid, 1)
    assert (result["rolled_back"], result["from_phase"], result["to_phase"]) == (True, 3, 1)
    assert result["cleared_phases"] == [2]
    state = engine.get_workflow_state(sid)
    assert state["current_phase"] == 1
    assert state["completed_phases"] == []
    assert state["artifacts"] == {}
    assert engine.state_manager.get_session(sid)["session"]["evidence_phases"] == [1]
    history = engine.state_manager.get_session(sid)["session"]["phase_history"]
    assert history[-2]["status"] == "rolled_back" and history[-1]["phase"] == 1


def test_the_seed_rollback_from_phase_two_to_one(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    engine.complete_phase(sid, 1, example_evidence(started))
    result = engine.rollback(sid, 1)
    assert (result["rolled_back"], result["to_phase"], result["from_phase"]) == (True, 1, 2)


def test_rolling_back_forward_is_refused(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    with pytest.raises(StateError, match="cannot roll back forward"):
        engine.rollback(sid, 3)
    with pytest.raises(NotFoundError, match="phase 0 does not exist"):
        engine.rollback(sid, 0)


def test_repeating_a_rollback_changes_nothing(engine: WorkflowEngine) -> None:
    started = start(engine)
    sid = started["session_id"]
    engine.complete_phase(sid, 1, example_evidence(started))
    engine.rollback(sid, 1)
    version = engine.store.load(sid).version
    again = engine.rollback(sid, 1)
    assert again["rolled_back"] is False
    assert engine.store.load(sid).version == version


@pytest.mark.slow
def test_a_completed_session_can_roll_back_to_redo_its_last_phase(engine: WorkflowEngine) -> None:
    sid = start(engine, SPEC)["session_id"]
    complete_all(engine, sid)
    last = engine.get_workflow_state(sid)["completed_phases"][-1]
    result = engine.rollback(sid, last)
    assert result["rolled_back"] is True
    state = engine.get_workflow_state(sid)
    assert state["session_status"] == "active" and last not in state["completed_phases"]


@pytest.mark.slow
def test_delete_removes_the_file_and_is_idempotent(engine: WorkflowEngine, project: Path) -> None:
    sid = start(engine)["session_id"]
    result = engine.state_manager.delete_session(sid, "Test cleanup")
    assert result["deleted"] is True and result["cleanup"]["state_file_removed"] is True
    assert not (project / ".praxis-os" / "state" / "workflows" / f"{sid}.json").exists()
    again = engine.state_manager.delete_session(sid)
    assert again["deleted"] is False
    with pytest.raises(NotFoundError):
        engine.get_workflow_state(sid)


@pytest.mark.slow
def test_list_sessions_filters_by_status(engine: WorkflowEngine) -> None:
    ids = [start(engine, TG, f"src/m{i}.py")["session_id"] for i in range(4)]
    engine.complete_phase(ids[0], 1, {})
    engine.state_manager.pause_session(ids[1])
    complete_all(engine, start(engine, SPEC)["session_id"])
    listing = engine.state_manager.list_sessions()
    assert listing["count"] == 5
    counts = {
        s: engine.state_manager.list_sessions(s)["count"]
        for s in ("active", "paused", "completed", "failed")
    }
    assert counts == {"active": 2, "paused": 1, "completed": 1, "failed": 1}
    for status in counts:
        assert {s["status"] for s in engine.state_manager.list_sessions(status)["sessions"]} <= {
            status
        }
    assert set(listing["sessions"][0]) == {
        "session_id",
        "workflow_type",
        "target_file",
        "current_phase",
        "total_phases",
        "status",
        "created_at",
        "last_updated",
    }


def test_list_sessions_rejects_an_unknown_status(engine: WorkflowEngine) -> None:
    with pytest.raises(ValidationError, match="'done' is not a session status"):
        engine.state_manager.list_sessions("done")


@pytest.mark.slow
def test_get_session_returns_history_options_and_timestamps(engine: WorkflowEngine) -> None:
    sid = engine.start_workflow(TG, "a.py", options={"depth": "full"})["session_id"]
    session = engine.state_manager.get_session(sid)["session"]
    assert session["options"] == {"depth": "full"}
    assert session["phase_history"][0]["phase"] == 1
    assert session["created_at"].endswith("+00:00") and session["last_updated"]
    assert session["version"] == 1


@pytest.mark.slow
def test_get_errors_is_empty_for_a_clean_session(engine: WorkflowEngine) -> None:
    sid = start(engine)["session_id"]
    assert engine.state_manager.get_errors(sid) | {"next_actions": []} == {
        "session_id": sid,
        "errors": [],
        "error_count": 0,
        "last_error": None,
        "last_error_at": None,
        "session_status": "active",
        "next_actions": [],
    }


@pytest.mark.parametrize("bad_id", ["", "../x", "ABC", "a/b", None, 5, "x" * 200])
def test_malformed_session_ids_are_rejected_before_any_lookup(
    engine: WorkflowEngine, bad_id: object
) -> None:
    with pytest.raises(ValidationError):
        engine.get_workflow_state(bad_id)


def test_a_missing_session_is_not_found_with_a_remediation(engine: WorkflowEngine) -> None:
    with pytest.raises(NotFoundError) as caught:
        engine.get_current_phase("test_generation_v3_x_20250101_000000_abcdef")
    assert caught.value.remediation


@pytest.mark.slow
def test_phase_durations_are_measured(engine: WorkflowEngine, clock: FakeClock) -> None:
    started = start(engine)
    clock.advance(12.25)
    engine.complete_phase(started["session_id"], 1, example_evidence(started))
    history = engine.state_manager.get_session(started["session_id"])["session"]["phase_history"]
    assert history[0]["duration_seconds"] == 12.25


@pytest.mark.slow
def test_sessions_survive_a_new_engine_instance(project: Path) -> None:
    first = WorkflowEngine.for_project(project)
    started = first.start_workflow(TG, "a.py")
    first.complete_phase(started["session_id"], 1, example_evidence(started))
    second = WorkflowEngine.for_project(project)
    assert second.get_workflow_state(started["session_id"])["current_phase"] == 2


@pytest.mark.slow
def test_stored_sessions_validate_against_the_session_schema(
    engine: WorkflowEngine, project: Path
) -> None:
    sid = start(engine)["session_id"]
    engine.complete_phase(sid, 1, {})
    if isinstance(engine.store, FileSessionStore):  # the very bytes on disk
        raw = json.loads((project / ".praxis-os/state/workflows" / f"{sid}.json").read_text())
    else:  # the record as the store exports it
        raw = engine.store.snapshot([sid]).to_dict()["records"][sid]
    jsonschema.Draft202012Validator(session_state_schema()).validate(raw)


@pytest.mark.slow
def test_large_earlier_artifacts_are_summarised_in_phase_content_but_kept_in_state(
    engine: WorkflowEngine,
) -> None:
    started = start(engine)
    sid = started["session_id"]
    evidence = copy.deepcopy(example_evidence(started))
    evidence["code_structure"]["notes"] = "x" * 100_000
    done = engine.complete_phase(sid, 1, evidence)
    summary = done["phase_content"]["artifacts_from_previous_phases"]["1"]
    assert summary["omitted"] is True and summary["size_bytes"] > 100_000
    assert summary["fields"] == ["code_structure", "test_candidates"]
    assert summary["how_to_read"] == {"action": "get_state", "session_id": sid}
    assert engine.get_workflow_state(sid)["artifacts"]["1"] == evidence
