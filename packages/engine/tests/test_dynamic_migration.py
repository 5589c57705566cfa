"""Legacy sessions of a dynamic workflow migrate with their plan (the praxis fixture, copied)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pos_engine import (
    WorkflowEngine,
    WorkflowRegistry,
    convert_legacy_session_file,
    find_legacy_session_files,
)

# slow: every test here is slow (see the slow marker)
pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[3] / "tests/fixtures/praxis-project"
MOVED = "21d44e1a-e1f7-4b0b-9c6a-c95257d7cadd"
PHASE0 = "61e24eb6-7c13-4e7c-b0cc-5a6c9347b6e1"
NAMED = ".praxis-os/specs/2025-10-20-evidence-validation-system"
COMPLETED = ".praxis-os/specs/completed/2025-10-20-evidence-validation-system"


@pytest.fixture
def praxis(tmp_path: Path) -> Path:
    target = tmp_path / "praxis"
    shutil.copytree(FIXTURE, target)
    return target


def convert_all(project: Path, **options: Any) -> dict[str, tuple[Any, Any]]:
    registry = WorkflowRegistry(project)
    return {
        path.stem: convert_legacy_session_file(path, registry, **options)
        for path in find_legacy_session_files(project)
    }


@pytest.mark.slow
def test_all_four_legacy_sessions_migrate_and_answer_at_their_phase(praxis: Path) -> None:
    converted = convert_all(praxis)

    assert {sid: (report.ok, report.status) for sid, (_, report) in converted.items()} == {
        "1ec2c575-729c-44a2-a8b8-31409068cb68": (True, "active"),
        MOVED: (True, "active"),
        PHASE0: (True, "active"),
        "6bc23573-0698-4044-8063-5bf2aa32d101": (True, "active"),
    }
    engine = WorkflowEngine.for_project(praxis, durable=False)
    for session, _ in converted.values():
        engine.store.create(session)
    for sid, (session, _) in converted.items():
        phase = session.current_phase
        state = engine.get_workflow_state(sid)
        content = engine.get_current_phase(sid)["phase_content"]
        task = engine.get_task(sid, phase, content["tasks"][0]["task_number"])
        assert (state["current_phase"], content["phase"], task["phase"]) == (phase,) * 3


@pytest.mark.slow
def test_a_session_whose_spec_moved_finds_it_by_name_and_is_planned_from_it(
    praxis: Path,
) -> None:
    session, report = convert_all(praxis)[MOVED]

    assert report.to_dict()["spec"] == {
        "requested": NAMED,
        "requested_by": "metadata.spec_path",
        "found": COMPLETED,
        "how": "moved",
        "problem": None,
    }
    assert [w["code"] for w in report.warnings] == [
        "spec_moved",
        "evidence_fails_current_checkpoint",
        "evidence_fails_current_checkpoint",
        "evidence_fails_current_checkpoint",
    ]
    assert report.warnings[0]["message"] == (
        f"metadata.spec_path {NAMED!r} no longer exists; the only spec folder named "
        f"'2025-10-20-evidence-validation-system' under .praxis-os/specs/ is {COMPLETED!r}, "
        "which was used"
    )
    assert {
        "from": "metadata.spec_path",
        "to": f"plan (5 phases, 28 tasks from {COMPLETED}/tasks.md)",
    } in report.mapped
    assert (session.current_phase, session.completed_phases, session.total_phases) == (
        3,
        [0, 1, 2],
        6,
    )
    assert session.plan.found_by == f"metadata.spec_path {NAMED!r}, moved to {COMPLETED!r}"
    assert (
        session.artifacts["1"]["tasks_completed"][0] == "1.1 - Enable Validation in Session Manager"
    )
    engine = WorkflowEngine.for_project(praxis, durable=False)
    engine.store.create(session)
    content = engine.get_current_phase(MOVED)["phase_content"]
    assert (content["title"], [t["task_id"] for t in content["tasks"]]) == (
        "workflow_creation_v1 Enhancement",
        ["3.1", "3.2", "3.3", "3.4"],
    )


@pytest.mark.slow
def test_a_session_at_phase_0_without_its_spec_migrates_and_plans_when_phase_0_completes(
    praxis: Path,
) -> None:
    session, report = convert_all(praxis)[PHASE0]

    assert (session.current_phase, session.total_phases, session.plan) == (0, 1, None)
    assert report.to_dict()["spec"]["how"] == "missing"
    assert [w["code"] for w in report.warnings] == ["spec_missing", "total_phases_mismatch"]
    assert report.warnings[1]["message"] == (
        "metadata.total_phases is 2 (the legacy server's count); the phases come from the "
        "spec's tasks.md once it is planned"
    )
    engine = WorkflowEngine.for_project(praxis, durable=False)
    engine.store.create(session)
    example = engine.get_current_phase(PHASE0)["phase_content"]["checkpoint"]["evidence_example"]

    done = engine.complete_phase(PHASE0, 0, {**example, "spec_path": COMPLETED})

    assert (done["checkpoint_passed"], done["total_phases"], done["phase_content"]["phase"]) == (
        True,
        6,
        1,
    )
    assert "warnings" not in done  # the legacy gate's own example passes it
    assert done["plan"]["found_by"] == "evidence.spec_path"


@pytest.mark.slow
def test_several_folders_of_the_spec_s_name_leave_the_session_unmigrated_until_mapped(
    praxis: Path,
) -> None:
    twin = praxis / ".praxis-os/specs/review/2025-10-20-evidence-validation-system"
    twin.mkdir(parents=True)
    (twin / "tasks.md").write_text("## Phase 1: A\n### Task 1.1: B\n")

    session, report = convert_all(praxis)[MOVED]

    assert session is None
    assert report.error == (
        "it is at phase 3 of a dynamic workflow, whose phases come from its spec: "
        f"metadata.spec_path {NAMED!r} is not a folder of the project (no spec there), and 2 "
        "folders named '2025-10-20-evidence-validation-system' under .praxis-os/specs/ hold "
        f"tasks.md ({COMPLETED}, .praxis-os/specs/review/2025-10-20-evidence-validation-system); "
        f"map it with --spec-map '{NAMED}=<spec folder>'"
    )
    mapped, report = convert_all(praxis, spec_map={f"./{NAMED}/": COMPLETED})[MOVED]
    assert mapped is not None and mapped.plan is not None
    assert report.to_dict()["spec"]["how"] == "mapped"
    assert mapped.plan.found_by == f"--spec-map {NAMED!r} -> {COMPLETED!r}"


@pytest.mark.slow
def test_a_spec_missing_beyond_phase_0_or_a_wrong_map_leaves_the_session_unmigrated(
    praxis: Path,
) -> None:
    shutil.rmtree(praxis / COMPLETED)
    session, report = convert_all(praxis)[MOVED]
    assert session is None
    assert report.error.endswith(
        "no folder named '2025-10-20-evidence-validation-system' under .praxis-os/specs/ holds "
        f"tasks.md; map it with --spec-map '{NAMED}=<spec folder>'"
    )

    session, report = convert_all(praxis, spec_map={NAMED: ".praxis-os/specs/none"})[MOVED]
    assert session is None
    assert report.error == (
        "it is at phase 3 of a dynamic workflow, whose phases come from its spec: --spec-map "
        f"{NAMED}=.praxis-os/specs/none: --spec-map '.praxis-os/specs/none' is not a folder of "
        "the project (no spec there)"
    )


def test_a_spec_that_no_longer_parses_leaves_a_session_beyond_phase_0_unmigrated(
    praxis: Path,
) -> None:
    (praxis / COMPLETED / "tasks.md").write_text("# Empty now\n")
    session, report = convert_all(praxis)[MOVED]
    assert session is None
    assert report.error == (
        "it is at phase 3 of a dynamic workflow, whose phases come from its spec: the spec "
        f"{COMPLETED!r} cannot be planned: {COMPLETED}/tasks.md has no phase: expected '## "
        "Phase 1: <name>' headings (outside code blocks) with '### Task 1.1: <title>' tasks "
        "under them"
    )


@pytest.mark.slow
def test_a_lenient_phase_0_without_spec_path_plans_from_the_sessions_own_target(
    praxis: Path,
) -> None:
    session, _ = convert_all(praxis)[PHASE0]
    engine = WorkflowEngine.for_project(praxis, durable=False)
    engine.store.create(session)
    target = praxis / session.target_file  # the spec turns up where the session said
    target.mkdir(parents=True)
    shutil.copy(praxis / COMPLETED / "tasks.md", target / "tasks.md")
    example = engine.get_current_phase(PHASE0)["phase_content"]["checkpoint"]["evidence_example"]
    evidence = {k: v for k, v in example.items() if k != "spec_path"}

    done = engine.complete_phase(PHASE0, 0, evidence)

    # The legacy gate is not strict: the missing spec_path is a warning, and the plan
    # comes from the session's target_file.
    assert [w["field"] for w in done["warnings"]] == ["spec_path"]
    assert (done["plan"]["found_by"], done["plan"]["phase_count"]) == ("target_file", 5)
