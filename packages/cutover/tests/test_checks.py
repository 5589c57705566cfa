"""Pre-checks: every PASS/WARN/FAIL gathered, nothing of the project touched."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pos_cutover import (
    CheckContext,
    CheckResult,
    Cutover,
    ServerLauncher,
    default_plan,
    parse_plan,
    register_check,
    registered_checks,
    unregister_check,
)
from pos_tool import REGISTRY_FILE

# slow: every test starts the server (old or new surface) as a subprocess
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_the_pre_check_of_the_demo_passes_and_lists_old_tool_names_with_file_and_line(
    demo: Path, launcher: ServerLauncher, snapshot: Callable[[Path], dict[str, str]]
) -> None:
    before = snapshot(demo)

    result = await Cutover(demo, launcher=launcher).check()

    statuses = {r.name: r.status for r in result.checks.results} if result.checks else {}
    assert statuses == {
        "journal": "PASS",
        "registry": "PASS",
        "target-registry": "PASS",
        "server-current": "PASS",
        "server-target": "PASS",
        "actions": "PASS",
        "backup-space": "PASS",
        "lock": "PASS",
        "session-store": "PASS",
        "legacy-definitions": "WARN",
        "legacy-sessions": "PASS",
        "praxis-server": "PASS",
        "clients": "WARN",
        "agent-instructions": "WARN",
        "surface": "PASS",
    }
    assert (result.outcome, int(result.exit_code)) == ("ok", 0)
    assert result.checks is not None
    instructions = result.checks.get("agent-instructions")
    assert [(f.location, f.message) for f in instructions.findings] == [
        (
            ".cursorrules",
            "6 mention(s): start_workflow, get_current_phase, get_task, complete_phase, "
            "create_workflow, validate_workflow",
        ),
        (
            ".praxis-os/workflows/release_checklist/phases/0/phase.md",
            "1 mention(s): get_workflow_state",
        ),
        (
            ".praxis-os/workflows/release_checklist/phases/1/phase.md",
            "1 mention(s): complete_phase",
        ),
        (
            "CLAUDE.md",
            "5 mention(s): start_workflow, get_current_phase, get_task, complete_phase, "
            "get_workflow_state",
        ),
    ]
    every = instructions.details["mentions"]
    assert [(m["location"], m["tool"]) for m in every[:2]] == [
        (".cursorrules:3", "start_workflow"),
        (".cursorrules:4", "get_current_phase"),
    ]
    assert (
        "CLAUDE.md:7",
        'pos_workflow(action="start", workflow_type, target_file[, options])',
    ) in [(m["location"], m["replacement"]) for m in every]
    assert result.checks.get("server-current").details["count"] == 9
    assert result.checks.get("server-target").details["tools"] == [
        "pos_workflow",
        "get_server_info",
        "current_date",
    ]
    assert len(result.checks.get("actions").details["actions"]) == 14
    assert snapshot(demo) == before


async def test_the_pre_check_gathers_every_failure_instead_of_stopping_at_the_first(
    demo: Path, launcher: ServerLauncher
) -> None:
    data = default_plan().to_dict()
    data["groups"]["add"] = ["no_such_group"]
    data["target_registry"]["groups"] = ["no_such_group", "server_info"]
    (demo / ".praxis-os/backups").write_text("a file where the backups folder should be")
    (demo / ".praxis-os/cutover-journal.json").write_text("{not json")

    result = await Cutover(demo, parse_plan(json.dumps(data), "broken"), launcher=launcher).check()

    assert result.checks is not None
    assert [(r.name, r.status) for r in result.checks.results if r.status == "FAIL"] == [
        ("journal", "FAIL"),
        ("server-target", "FAIL"),
        ("actions", "FAIL"),
        ("backup-space", "FAIL"),
    ]
    assert "names unknown group 'no_such_group'" in result.checks.get("server-target").reason
    assert result.checks.get("backup-space").reason == (
        ".praxis-os/backups is not a folder, so .praxis-os/backups cannot be created"
    )
    assert (result.outcome, int(result.exit_code)) == ("check_failed", 1)
    assert result.message == "pre-checks failed: journal, server-target, actions, backup-space"


async def test_a_broken_registry_fails_the_registry_check_and_the_current_server_check(
    demo: Path, launcher: ServerLauncher
) -> None:
    (demo / REGISTRY_FILE).write_text('{"version": 1, "groups": []}')

    result = await Cutover(demo, launcher=launcher).check()

    assert result.checks is not None
    assert result.checks.get("registry").status == "FAIL"
    assert "does not match specs/tool-registry.schema.json" in result.checks.get("registry").reason
    assert result.checks.get("server-current").status == "FAIL"


async def test_registered_checks_run_with_the_others_and_a_crashing_one_becomes_a_fail(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    async def house_rules(ctx: CheckContext) -> list[CheckResult]:
        return [
            CheckResult(
                "house-rules",
                "WARN",
                f"1 house rule broken in {ctx.project.name}",
                "follow it",
            )
        ]

    async def broken(ctx: CheckContext) -> list[CheckResult]:
        raise RuntimeError("boom")

    register_check("house-rules", house_rules)
    register_check("broken", broken)
    try:
        assert list(registered_checks()) == [
            "session-store",
            "legacy-definitions",
            "legacy-sessions",
            "praxis-server",
            "clients",
            "agent-instructions",
            "surface",
            "house-rules",
            "broken",
        ]
        (tmp_path / ".praxis-os").mkdir()
        result = await Cutover(tmp_path, launcher=launcher).check()
    finally:
        assert unregister_check("house-rules")
        assert unregister_check("broken")
    assert not unregister_check("broken")

    assert result.checks is not None
    assert result.checks.get("house-rules").to_dict() == {
        "name": "house-rules",
        "status": "WARN",
        "reason": f"1 house rule broken in {tmp_path.name}",
        "remediation": "follow it",
        "findings": [],
        "details": {},
    }
    assert result.checks.get("legacy-definitions").reason == "no legacy workflow definitions"
    assert result.checks.get("broken").status == "FAIL"
    assert result.checks.get("broken").reason == "the check itself failed: RuntimeError: boom"
    with pytest.raises(KeyError):
        result.checks.get("nope")


async def test_a_project_without_registry_is_checked_against_the_default_groups(
    tmp_path: Path, launcher: ServerLauncher
) -> None:
    (tmp_path / ".praxis-os").mkdir()

    result = await Cutover(tmp_path, launcher=launcher).check()

    assert result.checks is not None
    registry = result.checks.get("registry")
    assert (registry.status, registry.reason) == (
        "PASS",
        "no registry file (default groups ['workflow', 'server_info']); without the file "
        "pos-workflow serves the target groups, and the old surface is whatever else the "
        "clients launch (see praxis-server and clients)",
    )
    assert result.checks.get("server-current").status == "PASS"
    assert result.checks.get("agent-instructions").status == "PASS"
    assert (result.checks.get("surface").status, result.checks.get("surface").reason) == (
        "PASS",
        "already cut over: nothing to do",
    )
