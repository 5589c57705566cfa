"""The demo project shipped in the package: template copied, sessions started through the old tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pos_cutover import ServerLauncher, ServerStartError
from pos_cutover.demo import DEMO_SESSIONS, DemoError, DemoProject, copy_template, materialise
from pos_engine import FileSessionStore
from pos_tool import REGISTRY_FILE


def test_materialise_copies_the_template_and_starts_sessions_through_the_old_tools(
    demo_template: DemoProject,
) -> None:
    root = demo_template.root

    assert sorted(p.name for p in root.iterdir()) == [
        ".claude",
        ".cursor",
        ".cursorrules",
        ".mcp.json",
        ".praxis-os",
        ".vscode",
        "CLAUDE.md",
        "README.md",
        "docs",
        "src",
    ]
    assert not list(root.rglob("dot-*"))
    assert json.loads((root / REGISTRY_FILE).read_text())["groups"] == [
        "workflow_legacy",
        "server_info",
    ]
    assert [
        (s["workflow_type"], s["target_file"], s["phases_completed"])
        for s in demo_template.sessions
    ] == list(DEMO_SESSIONS)
    stored = {
        s.session_id: s for s in FileSessionStore.from_project(root, durable=False).list_summaries()
    }
    assert sorted(stored) == sorted(s["session_id"] for s in demo_template.sessions)
    first = stored[demo_template.sessions[0]["session_id"]]
    assert (first.workflow_type, first.current_phase, first.status) == (
        "test_generation_v3",
        2,
        "active",
    )


def test_materialise_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")

    with pytest.raises(DemoError, match="exists and is not an empty folder"):
        copy_template(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.slow
def test_materialise_with_a_server_that_lacks_the_old_tools_fails_clearly(tmp_path: Path) -> None:
    without_legacy = (
        "import sys, pos_tool; from pos_tool.cli import main; "
        "pos_tool.TOOL_GROUPS.pop('workflow_legacy', None); sys.exit(main(sys.argv[1:]))"
    )
    launcher = ServerLauncher(command=(sys.executable, "-c", without_legacy, "serve"))

    with pytest.raises(ServerStartError) as caught:
        materialise(tmp_path / "demo", launcher)

    assert "names unknown group 'workflow_legacy'" in caught.value.message
    assert caught.value.remediation.startswith("Run `python -m pos_tool serve")
