"""--spec-map: legacy sessions of a dynamic workflow whose spec folder cannot be found by name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover import MigrationContext, default_plan
from pos_cutover._backup import new_backup_folder, write_backup
from pos_cutover._legacy import survey_legacy_sessions
from pos_cutover._legacy_step import migrate_legacy_sessions
from pos_engine import FileSessionStore

PRAXIS = Path(__file__).resolve().parents[3] / "tests/fixtures/praxis-project"
MOVED = "21d44e1a-e1f7-4b0b-9c6a-c95257d7cadd"
NAMED = ".praxis-os/specs/2025-10-20-evidence-validation-system"
COMPLETED = ".praxis-os/specs/completed/2025-10-20-evidence-validation-system"
REVIEW = ".praxis-os/specs/review/2025-10-20-evidence-validation-system"


@pytest.fixture
def twins(tmp_path: Path) -> Path:
    """The praxis project with a second folder of the moved spec's name: the name is ambiguous."""
    project = tmp_path / "praxis"
    shutil.copytree(PRAXIS, project)
    (project / REVIEW).mkdir(parents=True)
    (project / REVIEW / "tasks.md").write_text("## Phase 1: Draft\n### Task 1.1: Write\n")
    return project


def moved(records: list[Any]) -> Any:
    [record] = [r for r in records if r.session_id == MOVED]
    return record


@pytest.mark.slow
def test_the_sessions_pre_check_says_how_to_map_an_ambiguous_spec_and_takes_the_map(
    twins: Path,
) -> None:
    record = moved(survey_legacy_sessions(twins))
    assert record.outcome == "not_migrated"
    assert record.message.endswith(f"map it with --spec-map '{NAMED}=<spec folder>'")

    record = moved(survey_legacy_sessions(twins, {NAMED: COMPLETED}))
    assert (record.outcome, record.phase) == ("migrate", 3)
    assert record.message == (
        f"{MOVED}.json: migrates to session {MOVED} (spec_execution_v1), active at phase 3; "
        f"spec mapped by --spec-map to {COMPLETED}"
    )
    assert record.report["spec"] == {
        "requested": NAMED,
        "requested_by": "metadata.spec_path",
        "found": COMPLETED,
        "how": "mapped",
        "problem": None,
    }


@pytest.mark.slow
def test_the_migration_step_plans_a_mapped_session_from_the_mapped_folder(twins: Path) -> None:
    backup = write_backup(twins, new_backup_folder(twins), default_plan(), {"tools": []})

    outcome = migrate_legacy_sessions(
        MigrationContext(twins, backup, default_plan(), {NAMED: COMPLETED})
    )

    assert outcome.message.startswith("4 of 4 legacy session file(s) migrated")
    session = FileSessionStore.from_project(twins).load(MOVED)
    assert session.plan is not None
    assert (session.plan.spec_path, session.total_phases) == (COMPLETED, 6)


@pytest.mark.slow
def test_check_takes_spec_map_options_and_refuses_a_malformed_one(
    cli: Callable[..., Any], twins: Path
) -> None:
    ran = cli("check", "--project", str(twins), "--json", "--spec-map", f"{NAMED}={COMPLETED}")

    result = json.loads(ran.out)
    [sessions] = [r for r in result["checks"]["results"] if r["name"] == "legacy-sessions"]
    files = {f["session_id"]: f for f in sessions["details"]["files"]}
    assert files[MOVED]["outcome"] == "migrate"
    assert files[MOVED]["report"]["spec"]["how"] == "mapped"

    bad = cli("check", "--project", str(twins), "--spec-map", "no-equals-sign", server=False)
    assert bad.code == 2
    assert "'no-equals-sign' is not OLD=NEW" in bad.err
