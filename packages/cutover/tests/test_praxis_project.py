"""A real praxis-os project (``tests/fixtures/praxis-project``, see its NOTICE.md) cut over and back.

The fixture is copied into a temp folder for each test. Which legacy sessions
migrate depends on what the engine can serve (dynamic workflows such as
``spec_execution_v1`` may not be): every expectation about sessions is derived
from the migration's ledger, so that these tests hold (and check more) whatever
the engine migrates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from pos_cutover import (
    ServerLauncher,
    connect,
    default_client_command,
    find_backup,
    read_legacy_migration,
    scan_project,
)
from pos_cutover._mapping import LEGACY_TOOL_NAMES
from pos_tool import REGISTRY_FILE

FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "praxis-project"

SPEC_CREATION_SESSIONS = (
    "1ec2c575-729c-44a2-a8b8-31409068cb68",
    "6bc23573-0698-4044-8063-5bf2aa32d101",
)
"""The fixture's two spec_creation_v1 sessions: a static legacy workflow, always migrated."""

OLD_WORKFLOW_NAMES = {*LEGACY_TOOL_NAMES, "aos_workflow"}

Tree = Callable[[Path], dict[str, str]]


def _shared_fixture() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "fixtures" / "praxis-project"
        if candidate.is_dir():
            return candidate
    return None


def servers(project: Path, file: str, key: str = "mcpServers") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / file).read_text(encoding="utf-8"))[key]
    return data


def test_the_fixture_copy_is_the_shared_fixture_when_that_is_at_hand(tree: Tree) -> None:
    shared = _shared_fixture()
    if shared is None:
        pytest.skip("no ../shared/fixtures/praxis-project next to this checkout")

    assert tree(FIXTURE) == tree(shared)


async def _answers(project: Path, launcher: ServerLauncher, ids: list[str]) -> dict[str, Any]:
    """get_state and get_phase of each session, through a fresh server."""
    answers = {}
    async with connect(project, launcher) as server:
        for sid in ids:
            state = await server.pos_workflow("get_state", session_id=sid)
            phase = await server.pos_workflow("get_phase", session_id=sid)
            answers[sid] = (
                state.payload.get("current_phase"),
                state.payload.get("session_status"),
                phase.payload.get("phase_content", {}).get("phase"),
            )
    return answers


def test_a_real_praxis_project_is_cut_over_and_a_rollback_restores_every_file_byte_for_byte(
    praxis_project: Path,
    cli: Callable[..., Any],
    launcher: ServerLauncher,
    tree: Tree,
    free_url: Callable[[], str],
) -> None:
    project = praxis_project
    before = tree(project)
    cursor_before = servers(project, ".cursor/mcp.json")
    mcp_before = (project / ".mcp.json").read_text(encoding="utf-8")
    config_before = json.loads((project / ".praxis-os/config.json").read_text(encoding="utf-8"))
    url = free_url()

    ran = cli("run", "--project", str(project), "--json", "--http-url", url)

    result = json.loads(ran.out)
    backup = find_backup(project)
    ledger = read_legacy_migration(backup)
    assert ledger is not None
    migrated = [f for f in ledger.files if f.outcome == "migrated"]
    left = [f for f in ledger.files if f.outcome != "migrated"]
    # Every legacy session file is accounted for, and the static ones always migrate.
    assert sorted(f.source for f in ledger.files) == sorted(
        p.name for p in (FIXTURE / ".praxis-os/.cache/state").iterdir()
    )
    assert set(SPEC_CREATION_SESSIONS) <= {f.session_id for f in migrated}

    # The registry and the praxis config select pos_workflow; nothing else of config.json moved.
    assert json.loads((project / REGISTRY_FILE).read_text())["groups"] == [
        "workflow",
        "server_info",
    ]
    config = json.loads((project / ".praxis-os/config.json").read_text(encoding="utf-8"))
    assert config == {**config_before, "mcp": {"enabled_tool_groups": ["rag", "browser"]}}

    # .cursor/mcp.json launches pos-workflow beside the praxis server, which keeps rag and browser.
    cursor = servers(project, ".cursor/mcp.json")
    assert cursor == {
        "praxis-os": {
            **cursor_before["praxis-os"],
            "autoApprove": ["search_standards", "get_server_info"],
        },
        "pos-workflow": {
            "command": default_client_command()[0],
            "args": ["serve", "--project-root", "${workspaceFolder}"],
            "autoApprove": ["pos_workflow"],
        },
    }
    # .mcp.json reaches pos-workflow over HTTP; its other bytes are as they were.
    assert (project / ".mcp.json").read_text(encoding="utf-8") == mcp_before.replace(
        '"url": "http://127.0.0.1:4242/mcp"\n    }',
        '"url": "http://127.0.0.1:4242/mcp"\n    },\n    "pos-workflow": {\n'
        f'      "type": "http",\n      "url": "{url}"\n    }}',
    )
    # No client auto-approves an old workflow tool.
    for file in (".cursor/mcp.json", ".mcp.json"):
        for entry in servers(project, file).values():
            assert not OLD_WORKFLOW_NAMES & set(entry.get("autoApprove", []))

    # Verification started the Cursor entry as a GUI client would; the HTTP one is left for a human.
    clients = {(c["file"], c["transport"]): c for c in result["verification"]["clients"]}
    assert clients[(".cursor/mcp.json", "stdio")]["ok"] is True
    assert "pos_workflow" in clients[(".cursor/mcp.json", "stdio")]["tools"]
    assert clients[(".mcp.json", "http")]["skipped"] is True

    # Every migrated session answers at its phase through a fresh server.
    answers = anyio.run(_answers, project, launcher, [str(f.session_id) for f in migrated])
    assert answers == {str(f.session_id): (f.phase, f.status, f.phase) for f in migrated}

    # The report names each session that was not migrated, with its reason; the verdict follows.
    report = result["report"]["markdown"]
    for f in left:
        reason = f.message.removeprefix(f"{f.source}: ").removeprefix("cannot be migrated: ")
        assert f"legacy session {f.source} not migrated: {reason}" in report
        assert f"legacy session {f.source} not migrated: {reason}" in result["partial"]
    if left:
        assert (ran.code, result["outcome"]) == (6, "partial")
        assert "⚠️ Partial: cut over and verified, but not everything moved" in report
        assert "Approve for production use" not in report
    else:
        assert (ran.code, result["outcome"]) == (0, "cut_over")
        assert "✅ Approve for production use" in report

    again = cli("run", "--project", str(project), "--json")
    again_result = json.loads(again.out)
    assert again_result["outcome"] == ("partial" if left else "no_op")
    assert again.code == (6 if left else 0)
    assert again_result["message"].startswith("already cut over")

    rolled = cli("rollback", "--project", str(project), "--json")

    record = json.loads(rolled.out)["rollback"]
    assert (rolled.code, record["ok"], record["byte_identical"]) == (0, True, True)
    assert tree(project) == before
    assert not (project / ".praxis-os/config").exists()


@pytest.mark.slow
def test_with_stdio_clients_and_rewritten_instructions_the_run_is_accepted_and_undone(
    praxis_project: Path, cli: Callable[..., Any], tree: Tree
) -> None:
    project = praxis_project
    before = tree(project)
    mentions = {m.file for m in scan_project(project)}

    ran = cli(
        "run",
        "--project",
        str(project),
        "--json",
        "--client-transport",
        "stdio",
        "--rewrite-instructions",
        "--accept-unmigrated",
    )

    result = json.loads(ran.out)
    assert ran.code == 0, ran.err
    assert result["outcome"] in ("partial", "cut_over")
    entry = servers(project, ".mcp.json")["pos-workflow"]
    assert entry == {
        "type": "stdio",
        "command": default_client_command()[0],
        "args": ["serve", "--project-root", str(project)],
    }
    assert [(c["file"], c["ok"]) for c in result["verification"]["clients"]] == [
        (".cursor/mcp.json", True),
        (".mcp.json", True),
    ]
    # Only create_workflow mentions are left: it has no single pos_workflow call.
    assert {m.tool for m in scan_project(project)} == {"create_workflow"}
    changes = json.loads((find_backup(project).path / "project-files.json").read_text())["changes"]
    assert {c["path"] for c in changes if c["kind"] == "instructions"} == mentions
    assert "left for a human: line 20: create_workflow" in result["report"]["markdown"]

    rolled = cli("rollback", "--project", str(project))

    assert rolled.code == 0
    assert tree(project) == before


@pytest.mark.slow
def test_the_check_names_the_tools_agents_lose_when_the_praxis_server_is_removed(
    praxis_project: Path, cli: Callable[..., Any], tree: Tree
) -> None:
    project = praxis_project
    before = tree(project)

    ran = cli("check", "--project", str(project), "--json", "--remove-praxis-server")

    checks = {r["name"]: r for r in json.loads(ran.out)["checks"]["results"]}
    assert ran.code == 0
    praxis = checks["praxis-server"]
    assert (praxis["status"], praxis["details"]["lost_tools"]) == (
        "WARN",
        ["search_standards", "pos_browser", "aos_browser"],
    )
    assert praxis["reason"].startswith(
        "--remove-praxis-server: clients stop launching the praxis server; agents lose "
        "search_standards, pos_browser, aos_browser (groups ['rag', 'browser'])"
    )
    assert [f["message"].split(":")[0] for f in checks["clients"]["findings"][:2]] == [
        ".cursor/mcp.json",
        ".mcp.json",
    ]
    assert (
        "replaces praxis-os (praxis server) with pos-workflow"
        in (checks["clients"]["findings"][0]["message"])
    )
    assert tree(project) == before


@pytest.mark.slow
def test_a_client_command_a_gui_client_cannot_find_fails_verification_and_is_rolled_back(
    praxis_project: Path, cli: Callable[..., Any], tree: Tree
) -> None:
    before = tree(praxis_project)

    ran = cli(
        "run",
        "--project",
        str(praxis_project),
        "--json",
        "--client-command",
        "pos-workflow",
        "--client-transport",
        "stdio",
    )

    result = json.loads(ran.out)
    assert (ran.code, result["outcome"]) == (3, "rolled_back")
    failed = [c for c in result["verification"]["clients"] if not c["ok"]]
    assert [(c["file"], c["target"]) for c in failed] == [
        (".cursor/mcp.json", f"pos-workflow serve --project-root {praxis_project}"),
        (".mcp.json", f"pos-workflow serve --project-root {praxis_project}"),
    ]
    assert all("PATH=/usr/bin:/bin:/usr/sbin:/sbin" in c["detail"] for c in failed)
    assert "does not start pos-workflow" in result["report"]["markdown"]
    assert tree(praxis_project) == before
