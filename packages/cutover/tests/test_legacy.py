"""Legacy (praxis-style) projects: pre-check findings, session migration, verification, undo.

The acceptance test runs ``pos-cutover run`` and ``pos-cutover rollback`` with real
server subprocesses on a scratch project that ran the earlier praxis-style server;
the others call the check and the migration step directly on a backup written
without a server (fast, and the same code ``apply`` and ``rollback`` run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from pos_cutover import (
    LEGACY_MIGRATION_FILE,
    LEGACY_SESSIONS_STEP,
    CheckContext,
    CutoverError,
    LegacyMigration,
    LegacySessionFile,
    MigrationContext,
    ServerLauncher,
    ToolCall,
    connect,
    default_plan,
    find_backup,
    read_legacy_migration,
    survey_legacy_sessions,
    verify_backup,
)
from pos_cutover._backup import new_backup_folder, write_backup
from pos_cutover._legacy import (
    check_legacy_definitions,
    check_legacy_sessions,
    check_migrated_sessions,
)
from pos_cutover._legacy_step import migrate_legacy_sessions, undo_legacy_sessions
from pos_cutover._report import build_report
from pos_engine import FileSessionStore, InternalError, Session, SessionSnapshot
from pos_tool import REGISTRY_FILE

pytestmark = pytest.mark.anyio

WT = "spec_creation_legacy"
REGISTRY = b'{"version": 1, "groups": ["workflow_legacy", "server_info"]}\n'

FRESH = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
MIDDLE = "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
FAILED = "2c3d4e5f-6a7b-4c8d-ae9f-1a2b3c4d5e6f"
DONE = "3d4e5f6a-7b8c-4d9e-bfa0-2b3c4d5e6f70"
IDS = (FRESH, MIDDLE, FAILED, DONE)

GATES = {
    0: """\
checkpoint: {strict: true, allow_override: false}
evidence_schema:
  spec_directory_created: {type: boolean, required: true, description: "The spec folder exists"}
  spec_dir: {type: string, required: true, validator: valid_path}
  documents_indexed: {type: integer, required: true}
validators:
  valid_path: "lambda x: __import__('os').system('touch PWNED') or '/' in x"
""",
    1: """\
checkpoint: {strict: true}
evidence_schema:
  srd_created: {type: boolean, required: true}
  user_story_count: {type: integer, required: true, validator: "lambda x: x >= 3"}
""",
    2: """\
checkpoint: {strict: false}
evidence_schema:
  technical_specs_created: {type: boolean, required: true}
""",
    3: """\
checkpoint: {strict: true}
evidence_schema:
  readme_created: {type: boolean, required: true}
  spec_validated: {type: boolean, required: true}
""",
}
REQUIRED = {
    0: ["spec_directory_created", "spec_dir", "documents_indexed"],
    1: ["srd_created", "user_story_count"],
    2: ["technical_specs_created"],
    3: ["readme_created", "spec_validated"],
}
NAMES = ["Supporting Documents", "Requirements", "Technical Design", "Finalization"]
EVIDENCE = {
    0: {"spec_directory_created": True, "spec_dir": ".praxis-os/specs/x", "documents_indexed": 2},
    1: {"srd_created": True, "user_story_count": 4},
    2: {"technical_specs_created": True},
    3: {"readme_created": True, "spec_validated": True},
}


def write_definition(
    project: Path, wtype: str = WT, required: dict[int, list[str]] | None = None
) -> Path:
    """A spec-creation-style legacy workflow: four phases, each with a gate."""
    folder = project / ".praxis-os" / "workflows" / wtype
    phases = []
    for n, name in enumerate(NAMES):
        (folder / "phases" / str(n)).mkdir(parents=True)
        (folder / "phases" / str(n) / "phase.md").write_text(f"# Phase {n}: {name}\n")
        (folder / "phases" / str(n) / "task-1-work.md").write_text(
            f"# Task 1: {name}\n\n### Step 1: Do it\n\n```bash\necho {{target_file}}\n```\n"
        )
        (folder / "phases" / str(n) / "gate-definition.yaml").write_text(GATES[n])
        phases.append(
            {
                "phase_number": n,
                "phase_name": name,
                "checkpoint": {"required_evidence": (required or REQUIRED)[n]},
                "tasks": [{"task_number": 1, "name": "work", "file": "task-1-work.md"}],
            }
        )
    metadata = {
        "workflow_type": wtype,
        "version": "1.0.0",
        "name": "Specification creation (legacy)",
        "description": "Spec creation in the praxis format.",
        "total_phases": len(phases),
        "start_phase": 0,
        "phases": phases,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return folder


def legacy_session(sid: str, current: int, completed: list[int], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_id": sid,
        "workflow_type": WT,
        "target_file": "docs/feature.md",
        "current_phase": current,
        "completed_phases": completed,
        "phase_artifacts": {
            str(n): {"phase_number": n, "evidence": EVIDENCE[n], "timestamp": "2025-10-20T10:15:00"}
            for n in completed
        },
        "checkpoints": {str(n): "passed" for n in completed},
        "created_at": "2025-10-20T10:00:00",
        "updated_at": "2025-10-20T11:00:00",
        "metadata": {"total_phases": 4},
    }
    data.update(extra)
    return data


def write_session(project: Path, data: Any, name: str | None = None) -> Path:
    folder = project / ".praxis-os" / ".cache" / "state"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{data['session_id']}.json")
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def legacy_project(root: Path) -> Path:
    """A project that ran the praxis-style server, now served by the old tools of ours."""
    (root / REGISTRY_FILE).parent.mkdir(parents=True)
    (root / REGISTRY_FILE).write_bytes(REGISTRY)
    (root / "docs").mkdir()
    (root / "docs/feature.md").write_text("# Feature\n")
    write_definition(root)
    write_session(root, legacy_session(FRESH, 0, []))
    write_session(root, legacy_session(MIDDLE, 1, [0]))
    failed = legacy_session(FAILED, 2, [0, 1])
    failed["checkpoints"]["2"] = "failed"
    failed["phase_artifacts"]["2"] = {"phase_number": 2, "evidence": {}}
    write_session(root, failed)
    write_session(root, legacy_session(DONE, 3, [0, 1, 2, 3]))
    return root


def fake_backup(project: Path) -> MigrationContext:
    """A verified backup written without a server, and the context a migration step gets."""
    folder = new_backup_folder(project)
    backup = write_backup(project, folder, default_plan(), {"tools": []})
    return MigrationContext(project, backup, default_plan())


INDEX = FileSessionStore.project_index_dir(".").as_posix()


def snapshot(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 by file, except under ``skip`` and the store's index (a cache, see its docstring)."""
    return {
        rel: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not (rel := p.relative_to(root).as_posix()).startswith((*skip, INDEX + "/"))
    }


def folders(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def store_files(project: Path) -> dict[str, bytes]:
    """The file store's records, byte for byte (the store's own folder, however it is named)."""
    folder = FileSessionStore.project_state_dir(project)
    return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.json"))}


STORE = f"file store ({FileSessionStore.project_state_dir('').as_posix()})"
"""How the project's file store describes itself in messages."""


def kept_session(path: Path) -> Session:
    """The one session of a snapshot a rollback kept in the backup (checksum checked)."""
    records = SessionSnapshot.from_dict(json.loads(path.read_text())).records
    [session] = records.values()
    assert session is not None
    return session


# ------------------------------------------------------------------- acceptance


async def _drive_to_completion(server: Any, sid: str) -> list[int]:
    """Complete phases from the session's current one with phase_content's evidence_example."""
    completed = []
    current = (await server.pos_workflow("get_phase", session_id=sid)).payload
    for _ in range(10):
        content = current["phase_content"]
        done = await server.pos_workflow(
            "complete_phase",
            session_id=sid,
            phase=content["phase"],
            evidence=content["checkpoint"]["evidence_example"],
        )
        assert done.ok, done.payload
        completed.append(content["phase"])
        if done.payload["workflow_completed"]:
            return completed
        current = done.payload
    raise AssertionError("the workflow did not complete")


async def _continue_migrated(project: Path, launcher: ServerLauncher) -> tuple[Any, ...]:
    """Through a fresh server: list_workflows, each migrated session, and finish the failed one."""
    async with connect(project, launcher) as server:
        listed = await server.pos_workflow("list_workflows")
        legacy = [w for w in listed.payload["workflows"] if w["workflow_type"] == WT]
        answers = {}
        for sid in IDS:
            state = await server.pos_workflow("get_state", session_id=sid)
            phase = await server.pos_workflow("get_phase", session_id=sid)
            at = state.payload["current_phase"]
            task = await server.pos_workflow("get_task", session_id=sid, phase=at, task_number=1)
            answers[sid] = (
                at,
                state.payload["session_status"],
                phase.payload["phase_content"]["phase"],
                task.payload["task_content"]["title"],
            )
        errors = await server.pos_workflow("get_errors", session_id=FAILED)
        finished = await _drive_to_completion(server, FAILED)
        final = await server.pos_workflow("get_state", session_id=FAILED)
    return legacy, answers, errors, finished, final


def test_a_legacy_project_is_cut_over_its_sessions_continue_and_a_rollback_restores_it_byte_for_byte(
    tmp_path: Path, cli: Callable[..., Any], launcher: ServerLauncher
) -> None:
    project = legacy_project(tmp_path / "praxis-project")
    # Excluded from the comparison: .praxis-os/backups/, the record of the cutover
    # (and the only thing it is meant to leave behind).
    before = snapshot(project)
    folders_before = folders(project)

    ran = cli("run", "--project", str(project), "--json")

    result = json.loads(ran.out)
    assert (ran.code, result["outcome"]) == (0, "cut_over"), ran.err
    assert (result["migrations"][0]["changed"], result["migrations"][0]["sessions"]) == (
        [],
        list(IDS),
    )
    assert [
        (m["session_id"], m["phase"], m["status"], m["ok"])
        for m in result["verification"]["migrated"]
    ] == [
        (FRESH, 0, "active", True),
        (MIDDLE, 1, "active", True),
        (FAILED, 2, "failed", True),
        (DONE, 3, "completed", True),
    ]
    assert "| `2c3d4e5f-6a7b-4c8d-ae9f-1a2b3c4d5e6f.json` |" in result["report"]["markdown"]
    assert "validator 'valid_path' on field 'spec_dir' is not evaluated" in ran.err
    assert not (project / "PWNED").exists()

    legacy, answers, errors, finished, final = anyio.run(_continue_migrated, project, launcher)

    assert [(w["format"], w["total_phases"]) for w in legacy] == [("legacy", 4)]
    assert answers == {
        FRESH: (0, "active", 0, "Supporting Documents"),
        MIDDLE: (1, "active", 1, "Requirements"),
        FAILED: (2, "failed", 2, "Technical Design"),
        DONE: (3, "completed", 3, "Finalization"),
    }
    assert errors.payload["last_error"]["error_type"] == "CheckpointFailed"
    assert finished == [2, 3]
    assert (final.payload["session_status"], final.payload["completed_phases"]) == (
        "completed",
        [0, 1, 2, 3],
    )

    rolled = cli("rollback", "--project", str(project), "--json")

    record = json.loads(rolled.out)["rollback"]
    assert (rolled.code, record["ok"], record["byte_identical"]) == (0, True, True)
    assert record["migrations_undone"][0]["message"] == (
        "removed 4 migrated legacy session(s) (1 had progressed after the cutover: their last "
        "state is kept in the backup under rolled-back-sessions/); 4 legacy session file(s) "
        "unchanged"
    )
    assert snapshot(project, skip=(".praxis-os/backups/",)) == before
    # No file is left behind outside the backups and the store's index. The only new
    # folders are the backups and the store's folders (empty of sessions), which any start
    # of the server creates, before the cutover as after it (the cutover's servers record
    # no metrics).
    state = FileSessionStore.project_state_dir(project)
    index = FileSessionStore.project_index_dir(project)
    assert folders(project) - folders_before - {
        p for p in folders(project) if p.startswith(".praxis-os/backups")
    } == {p.relative_to(project).as_posix() for p in (state.parent, state, state / ".locks", index)}
    backup = find_backup(project)
    kept = kept_session(backup.path / f"rolled-back-sessions/{FAILED}.json")
    assert (kept.session_id, kept.status) == (FAILED, "completed")
    assert sorted(p.name for p in (backup.path / "legacy-state").iterdir()) == [
        f"{sid}.json" for sid in IDS
    ]


# ------------------------------------------------------------------- pre-checks


async def test_the_pre_check_reports_validators_mismatches_non_strict_and_broken_definitions(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    required = {**REQUIRED, 1: ["srd_created", "business_goals_defined"]}
    write_definition(tmp_path, required=required)
    dynamic = tmp_path / ".praxis-os/workflows/spec_execution_legacy"
    dynamic.mkdir(parents=True)
    (dynamic / "metadata.json").write_text(
        json.dumps({"workflow_type": "spec_execution_legacy", "total_phases": "dynamic"})
    )
    broken = write_definition(tmp_path, "broken_legacy")
    (broken / "phases/0/task-1-work.md").unlink()
    before = snapshot(tmp_path)

    [result] = await check_legacy_definitions(CheckContext(tmp_path, default_plan(), launcher))

    gate = ".praxis-os/workflows/spec_creation_legacy/phases/{}/gate-definition.yaml"
    assert (result.status, result.reason) == (
        "WARN",
        "1 legacy workflow(s) (spec_creation_legacy): 6 finding(s), 2 invalid",
    )
    assert [(f.location, f.message) for f in result.findings[:4]] == [
        (
            gate.format(0),
            "workflow 'spec_creation_legacy' phase 0: validator 'valid_path' on field 'spec_dir' "
            "is not evaluated (validator expressions are code); only the field's type and "
            "presence are checked",
        ),
        (
            gate.format(1),
            "workflow 'spec_creation_legacy' phase 1: validator '<inline>' on field "
            "'user_story_count' is not evaluated (validator expressions are code); only the "
            "field's type and presence are checked",
        ),
        (
            gate.format(1),
            "workflow 'spec_creation_legacy' phase 1: metadata required_evidence and "
            "gate-definition.yaml disagree; the gate wins (only_in_metadata: "
            "business_goals_defined; only_in_gate: user_story_count)",
        ),
        (
            gate.format(2),
            "workflow 'spec_creation_legacy' phase 2: the gate is not strict; missing or invalid "
            "evidence lets the phase pass with warnings recorded in the session",
        ),
    ]
    assert result.findings[4].location == ".praxis-os/workflows/broken_legacy"
    assert "'broken_legacy' cannot be served" in result.findings[4].message
    assert result.findings[5].location == ".praxis-os/workflows/spec_execution_legacy"
    assert result.findings[5].message == (
        "workflow 'spec_execution_legacy' cannot be served: metadata.json: "
        "'spec_execution_legacy' is dynamic (its phases come from a spec) but has no "
        "dynamic_config naming its source and templates"
    )
    assert "rewrite a rule that matters as JSON Schema" in result.remediation
    assert result.details["legacy_workflows"] == ["spec_creation_legacy"]
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "PWNED").exists()


async def test_a_legacy_definition_with_nothing_to_report_passes(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    folder = write_definition(tmp_path)
    for n in (0, 1):
        (folder / f"phases/{n}/gate-definition.yaml").write_text(GATES[3])
    metadata = json.loads((folder / "metadata.json").read_text())
    for phase in metadata["phases"][:2]:
        phase["checkpoint"]["required_evidence"] = REQUIRED[3]
    metadata["phases"][2]["checkpoint"]["required_evidence"] = REQUIRED[3]
    (folder / "phases/2/gate-definition.yaml").write_text(GATES[3])
    (folder / "metadata.json").write_text(json.dumps(metadata))

    [result] = await check_legacy_definitions(CheckContext(tmp_path, default_plan(), launcher))

    assert (result.status, result.reason) == (
        "PASS",
        "1 legacy workflow(s) (spec_creation_legacy), served as written; nothing they declare "
        "goes unenforced",
    )


async def test_the_pre_check_lists_each_legacy_session_file_with_what_maps_and_what_does_not(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    project = legacy_project(tmp_path)
    write_session(project, "{not json", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a.json")
    odd = legacy_session(MIDDLE.upper().replace("1B2C", "5B2C"), 1, [0], extra_key=True)
    write_session(project, odd, "odd.json")
    ctx = CheckContext(project, default_plan(), launcher)
    before = snapshot(project)

    [result] = await check_legacy_sessions(ctx)

    assert (result.status, result.reason) == (
        "WARN",
        "6 legacy session file(s) under .praxis-os/.cache/state: 5 to migrate, 0 already in the "
        "store, 1 cannot be migrated; 1 with conversion warnings",
    )
    messages = [f.message for f in result.findings]
    assert messages[0] == f"migrates to session {FRESH} ({WT}), active at phase 0"
    assert f"migrates to session {FAILED} ({WT}), failed at phase 2" in messages
    assert (
        "  maps: session_id; workflow_type; target_file; created_at, updated_at -> created_at, "
        "updated_at (UTC); completed_phases; current_phase; phase_artifacts[2].evidence -> "
        "evidence[2] (current phase, not yet passed); checkpoints[2] -> status 'failed' and an "
        "errors entry; metadata -> options (without total_phases); phase_artifacts[0, 1] -> "
        "artifacts, evidence (their other fields under artifacts[n].legacy); checkpoints[0, 1] "
        "-> completed_phases, status"
    ) in messages
    assert (
        "cannot be migrated: the file is not valid JSON (line 1, column 2): Expecting property "
        "name enclosed in double quotes"
    ) in messages
    assert "  does not map: extra_key (not part of the legacy session format)" in messages
    assert any(m.startswith("  warning: session_id '5b2c3d4e") for m in messages)
    assert [f["outcome"] for f in result.details["files"]] == [
        "migrate",
        "migrate",
        "migrate",
        "migrate",
        "not_migrated",
        "migrate",
    ]
    assert snapshot(project) == before


async def test_without_legacy_files_the_sessions_pre_check_passes(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    [result] = await check_legacy_sessions(CheckContext(tmp_path, default_plan(), launcher))

    assert (result.status, result.reason) == (
        "PASS",
        "no legacy session files under .praxis-os/.cache/state",
    )


# ------------------------------------------------------------------- migration


@pytest.mark.slow
def test_a_corrupt_session_file_is_reported_and_skipped_and_nothing_else_is_affected(
    tmp_path: Path,
) -> None:
    project = legacy_project(tmp_path)
    corrupt = write_session(
        project, '{"session_id": "9f8e', "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a.json"
    )
    unknown = legacy_session("8e7d6c5b-4a39-4281-a06f-5e4d3c2b1a09", 0, [], workflow_type="gone")
    write_session(project, unknown)
    legacy_before = snapshot(project / ".praxis-os/.cache")
    ctx = fake_backup(project)

    outcome = migrate_legacy_sessions(ctx)

    ledger = read_legacy_migration(ctx.backup)
    assert ledger is not None
    assert outcome.message == (
        f"4 of 6 legacy session file(s) migrated with their ids into {STORE} "
        "(1 failed checkpoint(s) kept as failed sessions); 2 not migrated "
        "(8e7d6c5b-4a39-4281-a06f-5e4d3c2b1a09.json, 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a.json); "
        "the legacy files are unchanged"
    )
    assert sorted(store_files(project)) == sorted(IDS)
    assert ledger.created == list(IDS)
    by_source = {f.source: f for f in ledger.files}
    assert by_source[corrupt.name].outcome == "not_migrated"
    assert by_source[corrupt.name].message.startswith(
        f"{corrupt.name}: cannot be migrated: the file is not valid JSON"
    )
    assert "workflow_type does not resolve" in str(
        by_source["8e7d6c5b-4a39-4281-a06f-5e4d3c2b1a09.json"].report["error"]
    )
    assert snapshot(project / ".praxis-os/.cache") == legacy_before
    failed = FileSessionStore.from_project(project).load(FAILED)
    assert (failed.status, failed.current_phase, failed.errors[0].error_type) == (
        "failed",
        2,
        "CheckpointFailed",
    )
    assert (failed.artifacts["0"]["spec_dir"], failed.evidence["2"]) == (".praxis-os/specs/x", {})


@pytest.mark.slow
def test_migration_is_idempotent_and_never_overwrites_a_session_already_present(
    tmp_path: Path,
) -> None:
    project = legacy_project(tmp_path)
    store = FileSessionStore.from_project(project)
    mine = Session.model_validate({**store_session_template(), "session_id": DONE})
    store.create(mine)  # a session with a legacy file's id, present before the cutover
    present = store_files(project)[DONE]
    ctx = fake_backup(project)

    first = migrate_legacy_sessions(ctx)
    after_first = store_files(project)
    second = migrate_legacy_sessions(ctx)

    assert first.sessions == list(IDS[:3])
    assert first.message.endswith(
        "1 already in the store (not overwritten); the legacy files are unchanged"
    )
    assert second.sessions == []
    assert second.message.startswith(
        f"3 of 4 legacy session file(s) migrated with their ids into {STORE} "
        "(1 failed checkpoint(s) kept as failed sessions); 3 of them by an earlier run"
    )
    assert store_files(project) == after_first
    assert after_first[DONE] == present
    ledger = read_legacy_migration(ctx.backup)
    assert ledger is not None
    assert ledger.created == list(IDS[:3])
    assert [f.outcome for f in ledger.files] == ["migrated", "migrated", "migrated", "present"]
    assert ledger.files[3].message == (
        f"{DONE}.json: session {DONE} is already in the session store; it is left as it is "
        "(not overwritten)"
    )
    assert [r.outcome for r in survey_legacy_sessions(project)] == ["present"] * 4

    undone = undo_legacy_sessions(ctx)
    again = migrate_legacy_sessions(ctx)

    assert undone.message == (
        "removed 3 migrated legacy session(s); 4 legacy session file(s) unchanged"
    )
    assert again.sessions == first.sessions
    assert store_files(project)[DONE] == present


def store_session_template() -> dict[str, Any]:
    return {
        "session_id": "x",
        "workflow_type": WT,
        "target_file": "docs/feature.md",
        "start_phase": 0,
        "current_phase": 0,
        "total_phases": 4,
        "created_at": "2025-10-20T10:00:00+00:00",
        "updated_at": "2025-10-20T10:00:00+00:00",
    }


@pytest.mark.slow
def test_undo_removes_only_what_the_migration_created_and_keeps_progressed_sessions(
    tmp_path: Path,
) -> None:
    project = legacy_project(tmp_path)
    ctx = fake_backup(project)
    migrate_legacy_sessions(ctx)
    store = FileSessionStore.from_project(project)
    store.update(MIDDLE, lambda s: s.model_copy(update={"checkpoint_note": "worked on"}))
    later = Session.model_validate({**store_session_template(), "session_id": "later_py_x"})
    store.create(later)  # started after the cutover: not the migration's
    (project / ".praxis-os/.cache/state" / f"{FRESH}.json").write_text("{}")

    outcome = undo_legacy_sessions(ctx)
    nothing = undo_legacy_sessions(ctx)

    assert outcome.message == (
        "removed 4 migrated legacy session(s) (1 had progressed after the cutover: their last "
        "state is kept in the backup under rolled-back-sessions/); legacy files changed since "
        "the backup (the backup keeps their copies under legacy-state/): "
        f".praxis-os/.cache/state/{FRESH}.json"
    )
    assert sorted(store_files(project)) == ["later_py_x"]
    kept = kept_session(ctx.backup.path / f"rolled-back-sessions/{MIDDLE}.json")
    assert (kept.session_id, kept.version, kept.checkpoint_note) == (MIDDLE, 2, "worked on")
    ledger = read_legacy_migration(ctx.backup)
    assert ledger is not None
    assert (ledger.created, ledger.removed, ledger.kept) == (
        [],
        list(IDS),
        [f"rolled-back-sessions/{MIDDLE}.json"],
    )
    assert nothing.message.startswith("no migrated legacy sessions to remove")
    verify_backup(ctx.backup.path)  # outputs never touch what the manifest records


@pytest.mark.slow
def test_a_kill_during_migration_leaves_a_ledger_that_names_every_created_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = legacy_project(tmp_path)
    ctx = fake_backup(project)
    real = FileSessionStore.create
    calls: list[str] = []

    def dies_after_two(self: FileSessionStore, session: Session) -> Session:
        if len(calls) == 2:
            raise KeyboardInterrupt  # a kill, as far as this process is concerned
        calls.append(session.session_id)
        return real(self, session)

    monkeypatch.setattr(FileSessionStore, "create", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        migrate_legacy_sessions(ctx)
    monkeypatch.setattr(FileSessionStore, "create", real)

    ledger = read_legacy_migration(ctx.backup)
    assert ledger is not None
    assert ledger.created == list(IDS)
    assert sorted(store_files(project)) == sorted(IDS[:2])
    resumed = migrate_legacy_sessions(ctx)
    assert "2 of them by an earlier run" in resumed.message
    assert sorted(store_files(project)) == sorted(IDS)
    undo_legacy_sessions(ctx)
    assert store_files(project) == {}


@pytest.mark.slow
def test_a_session_that_cannot_be_written_stops_the_cutover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = legacy_project(tmp_path)
    ctx = fake_backup(project)

    def disk_full(self: FileSessionStore, session: Session) -> Session:
        raise InternalError("could not create session: No space left on device")

    monkeypatch.setattr(FileSessionStore, "create", disk_full)

    with pytest.raises(CutoverError) as caught:
        migrate_legacy_sessions(ctx)

    assert caught.value.message == (
        f"cannot write migrated session {FRESH} ({FRESH}.json): could not create session: "
        "No space left on device"
    )
    assert store_files(project) == {}


def test_a_project_without_legacy_files_has_nothing_to_migrate_or_undo(tmp_path: Path) -> None:
    ctx = fake_backup(tmp_path)

    assert migrate_legacy_sessions(ctx).message == (
        "no legacy session files under .praxis-os/.cache/state"
    )
    assert undo_legacy_sessions(ctx).message == (
        "no migrated legacy sessions to remove; 0 legacy session file(s) unchanged"
    )
    assert read_legacy_migration(ctx.backup) is None
    assert LEGACY_SESSIONS_STEP.apply is migrate_legacy_sessions


@pytest.mark.slow
def test_two_legacy_files_holding_one_session_id_migrate_once(tmp_path: Path) -> None:
    project = legacy_project(tmp_path)
    write_session(project, legacy_session(FRESH, 0, []), "copy-of-fresh.json")
    ctx = fake_backup(project)

    migrate_legacy_sessions(ctx)

    ledger = read_legacy_migration(ctx.backup)
    assert ledger is not None
    duplicate = next(f for f in ledger.files if f.source == "copy-of-fresh.json")
    assert (duplicate.outcome, duplicate.message) == (
        "not_migrated",
        f"copy-of-fresh.json: cannot be migrated: another legacy file already holds session {FRESH}",
    )
    assert [r.outcome for r in survey_legacy_sessions(project)].count("not_migrated") == 1


# ------------------------------------------------------------------- verification and report


class _Answers:
    """A stand-in for a live server: answers pos_workflow calls from a table."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers

    async def pos_workflow(self, action: str, **arguments: Any) -> ToolCall:
        payload = self.answers[action]
        return ToolCall("pos_workflow", {"action": action, **arguments}, payload, False, "", 1.0)


def _ledger_backup(project: Path) -> MigrationContext:
    ctx = fake_backup(project)
    ledger = LegacyMigration(
        ctx.backup.backup_id,
        created=[MIDDLE],
        files=[
            LegacySessionFile(
                f"{MIDDLE}.json", "p", "migrated", MIDDLE, WT, "active", 1, f"{MIDDLE}.json: ok"
            ),
            LegacySessionFile(
                "bad.json", "p", "not_migrated", message="bad.json: cannot be migrated: x"
            ),
            LegacySessionFile(
                f"{DONE}.json", "p", "present", DONE, WT, message=f"{DONE}.json: present"
            ),
        ],
    )
    ctx.backup.write_output(LEGACY_MIGRATION_FILE, json.dumps(ledger.to_dict()).encode())
    return ctx


@pytest.mark.slow
async def test_a_migrated_session_that_does_not_answer_or_moved_on_is_reported(
    tmp_path: Path,
) -> None:
    ctx = _ledger_backup(legacy_project(tmp_path))
    ok = {"status": "success"}
    state = {**ok, "current_phase": 2, "session_status": "active"}
    phase = {**ok, "phase_content": {"phase": 2, "tasks": [{"task_number": 1}]}}
    error = {"status": "error", "error": "session not found"}

    moved = await check_migrated_sessions(
        _Answers({"get_state": state, "get_phase": phase, "get_task": ok}), ctx.backup
    )
    gone = await check_migrated_sessions(_Answers({"get_state": error}), ctx.backup)
    no_phase = await check_migrated_sessions(
        _Answers({"get_state": state, "get_phase": error}), ctx.backup
    )
    no_task = await check_migrated_sessions(
        _Answers({"get_state": state, "get_phase": phase, "get_task": error}), ctx.backup
    )

    assert (moved[0].ok, moved[0].detail) == (
        True,
        "moved on since the migration (active at phase 1 -> active at phase 2)",
    )
    assert [(c.ok, c.detail) for c in gone + no_phase + no_task] == [
        (False, "get_state failed: session not found"),
        (False, "get_phase failed: session not found"),
        (False, "get_task failed: session not found"),
    ]


@pytest.mark.slow
def test_the_report_shows_what_the_migration_did_and_what_it_did_not(tmp_path: Path) -> None:
    ctx = _ledger_backup(legacy_project(tmp_path))

    report = build_report(ctx.backup, None, version="t")

    assert "### Legacy sessions" in report.markdown
    assert f"| `{MIDDLE}.json` | `{MIDDLE}` | {WT} | active | 1 | - | - | - |" in report.markdown
    assert "- ⚠️ bad.json: cannot be migrated: x" in report.markdown
    assert f"- {DONE}.json: present" in report.markdown
    assert (
        "- ⚠️ 1 legacy session file(s) not migrated (see Legacy sessions; the files are unchanged)"
        in report.data["issues"]
    )
    assert report.data["legacy_sessions"]["created"] == [MIDDLE]
    undo_legacy_sessions(ctx)
    rolled = build_report(ctx.backup, None, version="t")
    assert "- Removed again by the rollback of " in rolled.markdown
