"""Probe sessions on bundled phases the server checks, or the project gates with an approval.

The probe writes the files a checked phase claims in a scratch folder of the project
and removes it afterwards; it approves a gated phase of its own sessions through the
engine's approval API, which records who approved in the session's audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pos_cutover import Cutover, ServerLauncher, connect, find_backup
from pos_cutover._backup import BACKUPS_DIR, MANIFEST
from pos_cutover._probe import (
    PROBE_DIR,
    complete_workflow,
    smoke_actions,
)
from pos_cutover._probe_work import PROBE_APPROVER, SCRATCH_DIR, ProbeWork, store_approver
from pos_cutover._store import StoreSetting
from pos_cutover._verify import load_verification
from pos_engine import FileSessionStore, WorkflowEngine

pytestmark = pytest.mark.anyio

Tree = Callable[[Path], dict[str, str]]


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 0\n")
    (root / ".praxis-os" / ".cache").mkdir(parents=True)
    return root


def _user_files(root: Path, tree: Tree) -> dict[str, str]:
    """The project's files but the session store's (the probe's sessions live there)."""
    return {p: h for p, h in tree(root).items() if not p.startswith(".praxis-os/state/")}


def _gate(root: Path, *approvals: tuple[str, int]) -> None:
    config = root / ".praxis-os" / "config"
    config.mkdir(parents=True, exist_ok=True)
    gated = [{"workflow_type": w, "phase": p, "prompt": "Look at it."} for w, p in approvals]
    (config / "gates.json").write_text(json.dumps({"version": 1, "approvals": gated}))


async def test_checked_phases_pass_on_files_in_a_scratch_folder_that_goes_afterwards(
    tmp_path: Path, launcher: ServerLauncher, snapshot: Tree
) -> None:
    project = _project(tmp_path / "p")
    before = _user_files(project, snapshot)
    timings: dict[str, list[float]] = {}
    work = ProbeWork(project, "run-1")
    async with connect(project, launcher, durable=False) as server:
        bare = await complete_workflow(server, "spec_creation_v1", "bare", "run-1", timings)
        spec = await complete_workflow(
            server, "spec_creation_v1", "spec", "run-1", timings, work=work
        )
        tests = await complete_workflow(
            server, "test_generation_v3", "tests", "run-1", timings, work=work
        )
        written = sorted(
            p.relative_to(project).as_posix()
            for p in (project / work.folder).rglob("*")
            if p.is_file()
        )
    work.remove()

    # Without the scratch folder, the example names files the project does not have.
    assert (bare.ok, bare.phases_completed) == (False, 1)
    assert bare.detail.startswith("complete_phase 1 failed: ")
    assert bare.detail.endswith(
        "; /srd_path file_exists: '.praxis-os/specs/2026-11-25-invoice-export/srd.md': "
        "file does not exist"
    )
    assert [(r.ok, r.phases_completed) for r in (spec, tests)] == [(True, 5), (True, 5)]
    folder = f"{SCRATCH_DIR}/run-1"
    assert written == [
        f"{folder}/1-1/.praxis-os/specs/2026-11-25-invoice-export/specs.md",
        f"{folder}/1-1/.praxis-os/specs/2026-11-25-invoice-export/srd.md",
        f"{folder}/1-1/.praxis-os/specs/2026-11-25-invoice-export/tasks.md",
        f"{folder}/1-1/tests/billing/test_invoice.py",
    ]
    assert _user_files(project, snapshot) == before
    assert (project / ".praxis-os" / ".cache").is_dir()  # it was there before
    assert not (project / SCRATCH_DIR).exists()


async def test_a_gated_phase_of_a_probe_session_is_approved_in_the_probe_name(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    project = _project(tmp_path / "p")
    # test_generation_v3's first phase (the smoke walk's) and its checked phase 3;
    # spec_creation_v1's last phase, which the approval itself completes.
    _gate(project, ("test_generation_v3", 1), ("test_generation_v3", 3), ("spec_creation_v1", 4))
    approver = store_approver(project, StoreSetting())
    work = ProbeWork(project, "run-2", approver)
    timings: dict[str, list[float]] = {}
    async with connect(project, launcher, durable=False) as server:
        smoke = await smoke_actions(server, "run-2", "test_generation_v3", work=work)
        stuck = await complete_workflow(
            server, "test_generation_v3", "stuck", "run-2", timings, work=ProbeWork(project, "x")
        )
        tests = await complete_workflow(
            server, "test_generation_v3", "tests", "run-2", timings, work=work
        )
        spec = await complete_workflow(
            server, "spec_creation_v1", "spec", "run-2", timings, work=work
        )
    work.remove()

    assert [(r.action, r.detail) for r in smoke if not r.ok] == []
    assert (stuck.ok, stuck.phases_completed) == (False, 0)
    assert stuck.detail == (
        "phase 1 awaits a person's approval (the project gates it) and this probe cannot approve it"
    )
    assert [(r.ok, r.phases_completed, r.approvals) for r in (tests, spec)] == [
        (True, 5, 2),
        (True, 5, 1),
    ]
    store = FileSessionStore.from_project(project)
    for run, phases in ((tests, [1, 3]), (spec, [4])):
        session = store.load(run.session_id)
        approvals = [e for e in session.audit if e.kind == "approval"]
        assert [(e.phase, e.data["decision"], e.data["by"]) for e in approvals] == [
            (phase, "approved", PROBE_APPROVER) for phase in phases
        ]
        assert session.status == "completed"


@pytest.mark.parametrize("store_at", ["project", "elsewhere"])
def test_scratch_folders_a_killed_run_left_go_with_its_probe_sessions(
    tmp_path: Path, store_at: str
) -> None:
    # "elsewhere" stands for any store outside the project (a shared folder, PostgreSQL).
    project = tmp_path / "p"
    if store_at == "project":
        store, setting = FileSessionStore.from_project(project), StoreSetting()
    else:
        store = FileSessionStore(tmp_path / "shared-store")
        setting = StoreSetting(str(tmp_path / "shared-store"))
    engine = WorkflowEngine.for_project(project, store=store)
    run = "cutover-run-9"
    started = engine.start_workflow("spec_creation_v1", f"{PROBE_DIR}/w.py", {"pos_cutover": run})
    example = started["phase_content"]["checkpoint"]["evidence_example"]
    srd = engine.complete_phase(started["session_id"], 0, example)
    # A run that writes phase 1's file and is killed before it cleans up.
    evidence = ProbeWork(project, run).evidence(srd)
    assert (project / evidence["srd_path"]).is_file()
    assert (project / ".praxis-os" / ".cache").is_dir()
    backup = project / BACKUPS_DIR / run  # the run's backup names its probe sessions
    backup.mkdir(parents=True)
    (backup / MANIFEST).write_text("{}")

    removed = Cutover(project, store=setting).remove_probes(store)

    assert removed == [started["session_id"]]
    # The probe created .praxis-os/.cache for its folder: it goes too.
    assert not (project / ".praxis-os" / ".cache").exists()


def test_a_cutover_of_a_project_that_gates_bundled_phases_verifies_and_rolls_back_cleanly(
    demo: Path, cli: Callable[..., Any], tree: Tree
) -> None:
    _gate(demo, ("test_generation_v3", 3), ("spec_creation_v1", 1))
    before = tree(demo)

    ran = cli("run", "--project", str(demo), "--json")

    assert ran.code == 0, ran.err
    verification = load_verification(find_backup(demo))
    assert verification is not None and verification.ok
    runs = {w.workflow_type: w for w in verification.workflows}
    # spec_creation_v1 is among the workflows run; the canary, started before the cutover on
    # test_generation_v3, is continued through its checked and gated phase 3.
    assert (runs["spec_creation_v1"].ok, runs["spec_creation_v1"].approvals) == (True, 1)
    canary = verification.continuity
    assert canary is not None
    assert (canary.workflow_type, canary.ok, canary.approvals) == ("test_generation_v3", True, 1)
    assert (
        "the project gates phases of the workflows run with a person's approval: the "
        f"verification approved 2 phase(s) of its own probe sessions as {PROBE_APPROVER!r} "
        "(their audit trails record it)"
    ) in verification.warnings
    assert not (demo / SCRATCH_DIR).exists()

    rolled = cli("rollback", "--project", str(demo), "--json")

    assert rolled.code == 0, rolled.err
    assert tree(demo) == before
