"""Legacy (praxis-style) session files: reading, converting, storing and continuing them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pos_engine import (
    FileSessionStore,
    LegacySessionReport,
    WorkflowEngine,
    WorkflowRegistry,
    convert_legacy_session,
    convert_legacy_session_file,
    find_legacy_session_files,
    legacy_session_dir,
    read_legacy_session,
    verify_trail,
)
from pos_engine.testing.drive import FakeClock, example_evidence

WT = "legacy_flow_v1"
TZ = timezone(timedelta(hours=2))
UUID_UPPER = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
UUID = UUID_UPPER.lower()

GATE0 = """\
checkpoint: {strict: true, allow_override: false}
evidence_schema:
  context_ready: {type: boolean, required: true, description: "Context gathered"}
  files_read: {type: integer, required: true, validator: positive}
validators:
  positive: "lambda x: x > 0"
"""
GATE1 = """\
checkpoint: {strict: false}
evidence_schema:
  srd_written: {type: boolean, required: true}
"""


def write_flow(project: Path) -> Path:
    """A small three-phase legacy workflow: strict gate, non-strict gate, no gate."""
    folder = project / ".praxis-os" / "workflows" / WT
    phases = []
    for n, name in enumerate(["Context", "Requirements", "Finalization"]):
        (folder / "phases" / str(n)).mkdir(parents=True)
        (folder / "phases" / str(n) / "phase.md").write_text(f"# {name}\n")
        (folder / "phases" / str(n) / "task-1-do.md").write_text(
            f"# Task 1: {name}\n\n### Step 1: Work\n\n```bash\necho {{target_file}}\n```\n"
        )
        phases.append(
            {
                "phase_number": n,
                "phase_name": name,
                "purpose": f"Phase {name}.",
                "checkpoint": {"required_evidence": ["readme_created"]} if n == 2 else {},
                "tasks": [{"task_number": 1, "name": "do", "file": "task-1-do.md"}],
            }
        )
    (folder / "phases/0/gate-definition.yaml").write_text(GATE0)
    (folder / "phases/1/gate-definition.yaml").write_text(GATE1)
    metadata = {
        "workflow_type": WT,
        "version": "1.2.0",
        "name": "Legacy flow",
        "description": "A legacy workflow for session tests.",
        "total_phases": 3,
        "start_phase": 0,
        "phases": phases,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def legacy_session(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_id": UUID_UPPER,
        "workflow_type": WT,
        "target_file": "src/calculator.py",
        "current_phase": 1,
        "completed_phases": [0],
        "phase_artifacts": {
            "0": {
                "phase_number": 0,
                "evidence": {"context_ready": True, "files_read": 3},
                "outputs": {"notes": "three files"},
                "commands_executed": [{"command": "ls", "output": "a b c", "exit_code": 0}],
                "timestamp": "2025-10-20T10:15:00",
            }
        },
        "checkpoints": {"0": "passed"},
        "created_at": "2025-10-20T10:00:00.123456",
        "updated_at": "2025-10-20T10:20:00",
        "metadata": {"spec_path": ".praxis-os/specs/x", "total_phases": 3},
    }
    data.update(overrides)
    return data


def write_session(project: Path, data: Any, name: str | None = None) -> Path:
    folder = legacy_session_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{data['session_id']}.json")
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.fixture
def flow(project: Path) -> WorkflowRegistry:
    write_flow(project)
    return WorkflowRegistry(project)


def convert(
    flow: WorkflowRegistry, raw: dict[str, Any], source: str = ""
) -> tuple[Any, LegacySessionReport]:
    return convert_legacy_session(
        raw, flow.get(WT), project_root=flow.project_root, local_tz=TZ, source=source
    )


# ------------------------------------------------------------------------- mapping


@pytest.mark.slow
def test_a_session_at_a_middle_phase_converts_with_artifacts_evidence_and_history(
    flow: WorkflowRegistry,
) -> None:
    session, report = convert(flow, legacy_session(), f"{UUID}.json")
    assert report.ok and report.error is None
    assert session is not None
    data = session.model_dump()
    migration = data.pop("warnings")
    audit = data.pop("audit")
    assert data == {
        "schema_version": 1,
        "session_id": UUID,
        "workflow_type": WT,
        "workflow_version": "1.2.0",
        "target_file": "src/calculator.py",
        "status": "active",
        "start_phase": 0,
        "current_phase": 1,
        "total_phases": 3,
        "completed_phases": [0],
        "created_at": "2025-10-20T08:00:00.123456+00:00",
        "updated_at": "2025-10-20T08:20:00.000000+00:00",
        "completed_at": None,
        "paused_at": None,
        "paused_seconds_total": 0.0,
        "checkpoint": None,
        "checkpoint_note": None,
        "options": {"spec_path": ".praxis-os/specs/x"},
        "artifacts": {
            "0": {
                "context_ready": True,
                "files_read": 3,
                "legacy": {
                    "outputs": {"notes": "three files"},
                    "commands_executed": [{"command": "ls", "output": "a b c", "exit_code": 0}],
                    "timestamp": "2025-10-20T10:15:00",
                },
            }
        },
        "evidence": {"0": {"context_ready": True, "files_read": 3}},
        "phase_history": [
            {
                "phase": 0,
                "attempt": 1,
                "started_at": "2025-10-20T08:00:00.123456+00:00",
                "completed_at": "2025-10-20T08:15:00.000000+00:00",
                "duration_seconds": 899.877,
                "status": "passed",
            },
            {
                "phase": 1,
                "attempt": 1,
                "started_at": "2025-10-20T08:15:00.000000+00:00",
                "completed_at": None,
                "duration_seconds": None,
                "status": "in_progress",
            },
        ],
        "errors": [],
        "dynamic": False,
        "plan": None,
        "approval": None,
        "version": 0,
    }
    assert [e["kind"] for e in audit] == ["migrated"]  # the trail starts at migration
    assert verify_trail(session).ok
    [entry] = migration
    assert {k: v for k, v in entry.items() if k != "timestamp"} == {
        "kind": "migration",
        "source": "legacy_session",
        "phase": 1,
        "legacy_file": f"{UUID}.json",
        "message": f"migrated from the legacy session file '{UUID}.json'",
        "report_warnings": [],
    }
    assert datetime.fromisoformat(entry["timestamp"]).tzinfo is not None
    assert report.to_dict() == {
        "source": f"{UUID}.json",
        "ok": True,
        "error": None,
        "session_id": UUID,
        "workflow_type": WT,
        "status": "active",
        "mapped": [
            {"from": "session_id", "to": "session_id (lowercased)"},
            {"from": "workflow_type", "to": "workflow_type"},
            {"from": "target_file", "to": "target_file"},
            {"from": "created_at, updated_at", "to": "created_at, updated_at (UTC)"},
            {"from": "completed_phases", "to": "completed_phases"},
            {"from": "current_phase", "to": "current_phase"},
            {"from": "phase_artifacts[0].evidence", "to": "artifacts[0], evidence[0]"},
            {
                "from": "phase_artifacts[0].(outputs, commands_executed, timestamp)",
                "to": "artifacts[0].legacy",
            },
            {"from": "checkpoints[0]", "to": "implied by completed_phases and status"},
            {"from": "metadata", "to": "options (without total_phases)"},
        ],
        "unmapped": [],
        "warnings": [],
    }


@pytest.mark.slow
def test_a_failed_checkpoint_at_the_current_phase_becomes_a_failed_session_with_an_error_record(
    flow: WorkflowRegistry,
) -> None:
    raw = legacy_session(
        checkpoints={"0": "passed", "1": "failed"},
        phase_artifacts={
            **legacy_session()["phase_artifacts"],
            "1": {"evidence": {"srd_written": False}, "timestamp": "2025-10-20T10:19:00"},
        },
    )
    session, report = convert(flow, raw, "failed.json")
    assert session is not None and report.status == "failed"
    assert session.status == "failed"
    assert session.evidence["1"] == {"srd_written": False}
    assert "1" not in session.artifacts
    [error] = session.errors
    assert error.model_dump() == {
        "phase": 1,
        "timestamp": "2025-10-20T08:20:00.000000+00:00",
        "error_type": "CheckpointFailed",
        "message": "checkpoint of phase 1 failed on the legacy server; migrated from "
        "'failed.json' (the legacy file kept no failure details)",
        "details": {"migrated_from": "failed.json", "legacy_checkpoint": "failed"},
        "remediation": "Read phase_content.checkpoint (get_phase), then call complete_phase "
        "with phase=1 and evidence that passes it, or retry_phase with phase=1.",
    }
    assert [(a.phase, a.status, a.completed_at) for a in session.phase_history] == [
        (0, "passed", "2025-10-20T08:15:00.000000+00:00"),
        (1, "failed", "2025-10-20T08:20:00.000000+00:00"),
    ]
    assert {"from": "checkpoints[1]", "to": "status 'failed' and an errors entry"} in report.mapped
    assert {
        "from": "phase_artifacts[1].evidence",
        "to": "evidence[1] (current phase, not yet passed)",
    } in report.mapped


@pytest.mark.slow
def test_a_session_with_every_phase_completed_becomes_completed(flow: WorkflowRegistry) -> None:
    raw = legacy_session(
        current_phase=3,
        completed_phases=[0, 1, 2],
        checkpoints={"0": "passed", "1": "passed", "2": "passed"},
        phase_artifacts={
            "0": {"evidence": {"context_ready": True, "files_read": 1}},
            "1": {"evidence": {"srd_written": True}, "timestamp": "2025-10-20T10:16:00"},
            "2": {"evidence": {"readme_created": True}, "timestamp": "2025-10-20T10:18:00"},
        },
    )
    session, report = convert(flow, raw)
    assert session is not None
    assert (session.status, session.current_phase, session.completed_phases) == (
        "completed",
        2,
        [0, 1, 2],
    )
    assert session.completed_at == session.updated_at
    assert [(a.phase, a.status) for a in session.phase_history] == [
        (0, "passed"),
        (1, "passed"),
        (2, "passed"),
    ]
    assert {"from": "current_phase", "to": "current_phase (the last phase, 2; all completed)"} in (
        report.mapped
    )
    assert report.warnings == [
        {
            "code": "artifact_timestamp_unusable",
            "message": "phase_artifacts[0].timestamp None is not an ISO timestamp; updated_at "
            "was used",
            "phase": 0,
        }
    ]
    assert session.warnings[0]["report_warnings"] == ["artifact_timestamp_unusable"]


@pytest.mark.slow
def test_zone_less_times_are_taken_as_the_machine_local_zone_by_default(
    flow: WorkflowRegistry,
) -> None:
    session, _ = convert_legacy_session(
        legacy_session(), flow.get(WT), project_root=flow.project_root
    )
    assert session is not None
    local = datetime.fromisoformat("2025-10-20T10:00:00.123456").astimezone()
    assert session.created_at == local.astimezone(UTC).isoformat(timespec="microseconds")


@pytest.mark.slow
def test_times_with_an_offset_are_converted_to_utc(flow: WorkflowRegistry) -> None:
    raw = legacy_session(created_at="2025-10-20T10:00:00-05:00", updated_at="2025-10-20T15:30Z")
    session, _ = convert(flow, raw)
    assert session is not None
    assert (session.created_at, session.updated_at) == (
        "2025-10-20T15:00:00.000000+00:00",
        "2025-10-20T15:30:00.000000+00:00",
    )


@pytest.mark.slow
def test_an_uppercase_uuid_is_normalised_and_the_file_name_is_checked(
    flow: WorkflowRegistry,
) -> None:
    session, report = convert(flow, legacy_session(), "other-name.json")
    assert session is not None and session.session_id == UUID
    assert report.warnings == [
        {
            "code": "session_id_differs_from_file_name",
            "message": f"session_id {UUID!r} differs from the file name 'other-name.json'",
        }
    ]


@pytest.mark.slow
def test_a_uuid_that_is_not_a_uuid4_is_kept_with_a_warning(flow: WorkflowRegistry) -> None:
    uuid1 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    session, report = convert(flow, legacy_session(session_id=uuid1))
    assert session is not None and session.session_id == uuid1
    assert [w["code"] for w in report.warnings] == ["session_id_not_uuid4"]


@pytest.mark.slow
def test_phases_beyond_the_definition_and_unknown_keys_are_reported_not_migrated(
    flow: WorkflowRegistry,
) -> None:
    raw = legacy_session(
        completed_phases=[0, 7],
        checkpoints={"0": "passed", "7": "passed", "2": "weird", "5": "failed"},
        phase_artifacts={
            "0": {**legacy_session()["phase_artifacts"]["0"], "phase_number": 9, "extra": 1},
            "2": {"evidence": {"readme_created": True}},
            "7": {"evidence": {"x": 1}},
        },
        nested_workflows=[],
        metadata={"total_phases": 8},
    )
    session, report = convert(flow, raw)
    assert session is not None
    assert session.completed_phases == [0]
    assert set(session.artifacts) == {"0"} and set(session.evidence) == {"0"}
    assert session.options == {}
    assert report.unmapped == [
        {"key": "completed_phases[7]", "reason": "phase 7 is outside the definition's phases 0-2"},
        {"key": "phase_artifacts[0].extra", "reason": "not part of the legacy artifact format"},
        {
            "key": "phase_artifacts[2]",
            "reason": "phase 2 is neither completed nor the current phase",
        },
        {
            "key": "phase_artifacts[7]",
            "reason": "phase 7 is neither completed nor the current phase",
        },
        {"key": "checkpoints[2]", "reason": "unknown checkpoint status 'weird'"},
        {"key": "checkpoints[5]", "reason": "a past failure of phase 5, not current"},
        {"key": "nested_workflows", "reason": "not part of the legacy session format"},
    ]
    assert [(w["code"], w.get("phase")) for w in report.warnings] == [
        ("phase_beyond_definition", 7),
        ("artifact_phase_number_differs", 0),
        ("artifact_of_unfinished_phase", 2),
        ("artifact_of_unfinished_phase", 7),
        ("passed_checkpoint_not_completed", 7),
        ("total_phases_mismatch", None),
    ]
    assert report.warnings[-1]["message"] == (
        "metadata.total_phases is 8 but the definition has 3 phases; the definition's count is used"
    )


@pytest.mark.slow
def test_evidence_that_no_longer_passes_is_a_warning_not_a_failure(
    flow: WorkflowRegistry,
) -> None:
    raw = legacy_session(
        phase_artifacts={"0": {"evidence": {"context_ready": "yes"}, "timestamp": None}}
    )
    session, report = convert(flow, raw)
    assert session is not None and report.ok
    assert session.completed_phases == [0]
    assert session.artifacts["0"] == {"context_ready": "yes"}  # nothing legacy to keep
    codes = [w["code"] for w in report.warnings]
    assert codes == ["artifact_timestamp_unusable", "evidence_fails_current_checkpoint"]
    assert report.warnings[1]["message"] == (
        "the evidence of completed phase 0 does not pass today's checkpoint (missing evidence "
        "'files_read'; 1 schema error(s), first at /context_ready: 'yes' is not of type "
        "'boolean'); the phase stays completed"
    )


@pytest.mark.slow
def test_gaps_and_missing_artifacts_are_warnings(flow: WorkflowRegistry) -> None:
    raw = legacy_session(current_phase=2, completed_phases=[1], phase_artifacts={})
    session, report = convert(flow, raw)
    assert session is not None and session.current_phase == 2
    assert [w["code"] for w in report.warnings] == [
        "phases_skipped",
        "completed_phase_without_artifacts",
        "passed_checkpoint_not_completed",
    ]


@pytest.mark.slow
def test_an_evidence_field_named_legacy_keeps_its_value(flow: WorkflowRegistry) -> None:
    raw = legacy_session(
        phase_artifacts={
            "0": {
                "evidence": {"context_ready": True, "files_read": 2, "legacy": "mine"},
                "outputs": {"a": 1},
            }
        }
    )
    session, report = convert(flow, raw)
    assert session is not None
    assert session.artifacts["0"]["legacy"] == "mine"
    assert {
        "key": "phase_artifacts[0].outputs/commands_executed/timestamp",
        "reason": "the evidence already has a 'legacy' field; they stay in the legacy file",
    } in report.unmapped


# --------------------------------------------------------------------- rejections


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        (
            {"session_id": "not-a-uuid"},
            "session_id 'not-a-uuid' is not a uuid; legacy session ids are uuid4 strings",
        ),
        (
            {"workflow_type": "other_v1"},
            f"workflow_type 'other_v1' does not match the definition {WT!r}",
        ),
        (
            {"target_file": "../outside.py"},
            "target_file: target_file '../outside.py' leads outside the project root "
            "(directory traversal)",
        ),
        (
            {"target_file": "/etc/passwd"},
            "target_file: target_file '/etc/passwd' is an absolute path; only paths relative "
            "to the project root are accepted",
        ),
        ({"created_at": "yesterday"}, "created_at 'yesterday' is not an ISO 8601 timestamp"),
        (
            {"updated_at": "2025-13-45T99:00"},
            "updated_at '2025-13-45T99:00' is not an ISO 8601 timestamp",
        ),
        (
            {"current_phase": 5},
            f"current_phase 5 is outside the phases of {WT!r} (0-2) while phases [1, 2] are not completed",
        ),
        ({"current_phase": 0}, "current_phase 0 is also listed in completed_phases"),
        (
            {"current_phase": "1"},
            "not a legacy session: /current_phase: '1' is not of type 'integer'",
        ),
        (
            {"checkpoints": {"one": "passed"}},
            "not a legacy session: /checkpoints: 'one' does not match '^[0-9]+$'",
        ),
    ],
)
def test_a_session_that_cannot_be_converted_is_an_error_result_with_a_reason(
    flow: WorkflowRegistry, overrides: dict[str, Any], error: str
) -> None:
    session, report = convert(flow, legacy_session(**overrides))
    assert session is None
    assert (report.ok, report.error) == (False, error)


@pytest.mark.slow
def test_a_missing_key_and_a_non_object_are_shape_errors(flow: WorkflowRegistry) -> None:
    raw = legacy_session()
    del raw["phase_artifacts"]
    _, report = convert(flow, raw)
    assert report.error == "not a legacy session: (file): 'phase_artifacts' is a required property"
    _, report = convert(flow, [1, 2])  # type: ignore[arg-type]
    assert report.error == "the file holds a JSON list, not an object"
    raw = legacy_session(current_phase=-1, completed_phases="all")
    _, report = convert(flow, raw)
    assert report.error == (
        "not a legacy session: /completed_phases: 'all' is not of type 'array' (+1 more)"
    )


# ---------------------------------------------------------------------- files


def test_read_legacy_session_reports_readable_files_and_their_problems(project: Path) -> None:
    good = write_session(project, legacy_session())
    report = read_legacy_session(good)
    assert (report.ok, report.session_id, report.workflow_type) == (True, UUID_UPPER, WT)
    assert report.raw == legacy_session()
    assert "raw" not in report.to_dict()
    cases = {
        "broken.json": (
            '{"session_id": ',
            "the file is not valid JSON (line 1, column 16): Expecting value",
        ),
        "list.json": ("[]", "the file holds a JSON list, not an object"),
        "shape.json": (
            "{}",
            "not a legacy session: (file): 'session_id' is a required property (+8 more)",
        ),
    }
    for name, (text, error) in cases.items():
        report = read_legacy_session(write_session(project, text, name))
        assert (report.ok, report.error, report.source) == (False, error, name)
    binary = legacy_session_dir(project) / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert read_legacy_session(binary).error == "the file is not UTF-8 text (byte 0)"
    assert read_legacy_session(project / "missing.json").error == (
        "cannot read the file: No such file or directory"
    )


@pytest.mark.slow
def test_several_files_convert_independently_and_a_corrupt_one_is_only_reported(
    flow: WorkflowRegistry, project: Path
) -> None:
    ids = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
    ]
    write_session(
        project,
        legacy_session(
            session_id=ids[0],
            current_phase=0,
            completed_phases=[],
            phase_artifacts={},
            checkpoints={},
        ),
    )
    write_session(project, legacy_session(session_id=ids[1]))
    write_session(
        project,
        legacy_session(
            session_id=ids[2],
            current_phase=2,
            completed_phases=[0, 1],
            checkpoints={"0": "passed", "1": "passed", "2": "failed"},
            phase_artifacts={
                **legacy_session()["phase_artifacts"],
                "1": {"evidence": {"srd_written": True}, "timestamp": "2025-10-20T10:17:00"},
            },
        ),
    )
    write_session(project, "{corrupt", "44444444-4444-4444-8444-444444444444.json")
    write_session(
        project,
        legacy_session(workflow_type="gone_v1"),
        "55555555-5555-4555-8555-555555555555.json",
    )
    (legacy_session_dir(project) / "notes.txt").write_text("not a session")
    files = find_legacy_session_files(project)
    assert [f.name for f in files] == [
        f"{i}.json"
        for i in (
            *ids,
            "44444444-4444-4444-8444-444444444444",
            "55555555-5555-4555-8555-555555555555",
        )
    ]
    results = [convert_legacy_session_file(f, flow, local_tz=TZ) for f in files]
    summary = [(r.source[:8], r.ok, r.status, s is not None) for s, r in results]
    assert summary == [
        ("11111111", True, "active", True),
        ("22222222", True, "active", True),
        ("33333333", True, "failed", True),
        ("44444444", False, None, False),
        ("55555555", False, None, False),
    ]
    assert (
        results[3][1].error
        == "the file is not valid JSON (line 1, column 2): Expecting property name enclosed in double quotes"
    )
    assert results[4][1].error.startswith(
        "workflow_type does not resolve: workflow_type 'gone_v1' not found"
    )
    assert [(s.current_phase, s.completed_phases) for s, _ in results[:3] if s] == [
        (0, []),
        (1, [0]),
        (2, [0, 1]),
    ]
    store = FileSessionStore.from_project(project, durable=False)
    for session, _ in results[:3]:
        assert session is not None
        store.create(session)
    assert sorted(s.session_id for s in store.list_summaries()) == ids
    assert store.corrupt_ids() == []


def test_there_are_no_legacy_files_when_the_folder_is_missing(project: Path) -> None:
    assert find_legacy_session_files(project) == []


# ------------------------------------------------------------------- continuing


@pytest.mark.slow
def test_a_converted_session_stored_in_a_file_store_can_be_continued_to_completion(
    flow: WorkflowRegistry, project: Path, clock: FakeClock
) -> None:
    path = write_session(project, legacy_session(checkpoints={"0": "passed", "1": "failed"}))
    session, report = convert_legacy_session_file(path, flow, local_tz=TZ)
    assert session is not None and report.ok
    engine = WorkflowEngine.for_project(project, durable=False, clock=clock)
    engine.store.create(session)
    current = engine.get_current_phase(UUID)
    assert (current["current_phase"], current["session_status"]) == (1, "failed")
    assert current["phase_content"]["artifacts_from_previous_phases"]["0"]["files_read"] == 3
    assert current["phase_content"]["checkpoint"]["strict"] is False
    task = engine.get_task(UUID, 1, 1)
    assert task["task_content"]["execution_steps"][0]["command"] == "echo src/calculator.py"
    done = engine.complete_phase(UUID, 1, example_evidence(current))
    assert done["checkpoint_passed"] is True and "warnings" not in done
    final = engine.complete_phase(UUID, 2, example_evidence(done))
    assert final["workflow_completed"] is True
    stored = engine.store.load(UUID)
    assert (stored.status, stored.completed_phases) == ("completed", [0, 1, 2])
    assert [(a.phase, a.attempt, a.status) for a in stored.phase_history] == [
        (0, 1, "passed"),
        (1, 1, "failed"),
        (1, 2, "passed"),
        (2, 1, "passed"),
    ]
    assert [w["kind"] for w in stored.warnings] == ["migration"]
    assert engine.state_manager.get_errors(UUID)["error_count"] == 1


@pytest.mark.slow
def test_a_converted_active_session_can_be_paused_and_resumed(
    flow: WorkflowRegistry, project: Path
) -> None:
    session, _ = convert(flow, legacy_session())
    assert session is not None
    engine = WorkflowEngine.for_project(project, durable=False)
    engine.store.create(session)
    assert engine.state_manager.pause_session(UUID)["paused"] is True
    assert engine.state_manager.resume_session(UUID)["current_phase"] == 1
