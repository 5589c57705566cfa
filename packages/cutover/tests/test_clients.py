"""Client configs and the praxis config.json: what reaches the praxis server, and each planned rewrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pos_cutover import ChangeOptions, CheckContext, ServerLauncher, default_plan, survey
from pos_cutover._client_survey import survey_clients
from pos_cutover._clients import ClientFormat, plan_client_file, praxis_reason
from pos_cutover._praxis import config_change, read_praxis_config
from pos_cutover._praxis_checks import check_clients, check_praxis_server

PROJECT = Path("/srv/app")
COMMAND = ("/opt/pos/bin/pos-workflow",)
OPTIONS = ChangeOptions(client_command=COMMAND)
PRAXIS = {
    "command": "${workspaceFolder}/.praxis-os/venv/bin/python",
    "args": ["-m", "mcp_server"],
    "autoApprove": ["search_standards", "get_current_phase", "complete_phase"],
}


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / ".praxis-os").mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    ("name", "entry", "reason"),
    [
        (
            "x",
            {"command": "python3", "args": ["-m", "mcp_server"]},
            "launches python3 -m mcp_server",
        ),
        (
            "x",
            {"command": "/p/.praxis-os/venv/bin/python", "args": ["srv.py"]},
            "runs the praxis server from .praxis-os/",
        ),
        ("prAxIs-os", {"command": "praxis-mcp"}, "named like the praxis server"),
        (
            "rag",
            {"type": "http", "url": "http://localhost:4242/mcp"},
            "reaches the praxis HTTP endpoint http://localhost:4242/mcp",
        ),
        (
            "agent-os-rag",
            {"url": "http://127.0.0.1:9999/mcp"},
            "named like the praxis server (http://127.0.0.1:9999/mcp)",
        ),
        ("rag", {"url": "http://127.0.0.1:9999/mcp"}, None),
        ("praxis-os", {"command": "/opt/pos/bin/pos-workflow", "args": ["serve"]}, None),
        ("git", {"command": "uvx", "args": ["mcp-server-git"]}, None),
    ],
)
def test_an_entry_reaches_the_praxis_server_by_command_path_url_or_name(
    name: str, entry: dict[str, object], reason: str | None
) -> None:
    assert praxis_reason(name, entry, PROJECT, {4242}) == reason


def test_a_user_level_entry_counts_only_when_it_names_this_project() -> None:
    elsewhere = {"command": "/x/.praxis-os/venv/bin/python", "args": ["-m", "mcp_server"]}
    here = {"command": "/srv/app/.praxis-os/venv/bin/python", "args": ["-m", "mcp_server"]}

    assert praxis_reason("praxis-os", elsewhere, PROJECT, set(), user_level=True) is None
    assert praxis_reason("praxis-os", here, PROJECT, set(), user_level=True) == (
        "launches python -m mcp_server"
    )
    assert (
        praxis_reason("rag", {"url": "http://127.0.0.1:4242/mcp"}, PROJECT, set(), user_level=True)
        is None
    )


def test_vs_code_servers_are_rewritten_with_their_comments_and_the_ide_root_variable(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    text = (
        '{\n  // project servers\n  "servers": {\n    "praxis-os": {\n      "type": "stdio",\n'
        '      "command": "${workspaceFolder}/.praxis-os/venv/bin/python",\n'
        '      "args": ["-m", "mcp_server"]\n    }\n  }\n}\n'
    )
    write(root, ".vscode/mcp.json", text)

    change, entries = plan_client_file(
        root,
        ClientFormat(".vscode/mcp.json", "VS Code", "servers"),
        OPTIONS,
        "keep",
    )

    assert change is not None
    assert [(e.name, e.transport) for e in entries] == [("praxis-os", "stdio")]
    assert change.after.decode() == text.replace(
        '      "args": ["-m", "mcp_server"]\n    }\n',
        '      "args": ["-m", "mcp_server"]\n    },\n    "pos-workflow": {\n      "type": "stdio",\n'
        '      "command": "/opt/pos/bin/pos-workflow",\n'
        '      "args": ["serve", "--project-root", "${workspaceFolder}"]\n    }\n',
    )
    assert change.entries == [{"name": "pos-workflow", "transport": "stdio", "section": "servers"}]


def test_removing_the_praxis_server_replaces_its_entry_in_place_and_maps_auto_approvals(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    data = {
        "mcpServers": {
            "git": {"command": "uvx"},
            "praxis-os": PRAXIS,
            "rag": {"url": "http://127.0.0.1:4242/mcp"},
        }
    }
    write(root, ".cursor/mcp.json", json.dumps(data, indent=2) + "\n")

    change, _ = plan_client_file(
        root, ClientFormat(".cursor/mcp.json", "Cursor"), OPTIONS, "remove"
    )

    assert change is not None
    assert list(json.loads(change.after)["mcpServers"].items()) == [
        ("git", {"command": "uvx"}),
        (
            "pos-workflow",
            {
                "command": "/opt/pos/bin/pos-workflow",
                "args": ["serve", "--project-root", "${workspaceFolder}"],
                "autoApprove": ["search_standards", "pos_workflow"],
            },
        ),
    ]
    assert change.summary == [
        "replaces praxis-os, rag (praxis server) with pos-workflow (/opt/pos/bin/pos-workflow serve "
        "--project-root ${workspaceFolder}; autoApprove ['search_standards', 'pos_workflow'])"
    ]


def test_a_second_survey_after_the_rewrite_has_nothing_left_to_change(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root, ".cursor/mcp.json", json.dumps({"mcpServers": {"praxis-os": PRAXIS}}, indent=2))
    write(
        root,
        ".mcp.json",
        json.dumps(
            {"mcpServers": {"agent-os-rag": {"type": "http", "url": "http://127.0.0.1:4242/mcp"}}}
        ),
    )
    first = survey_clients(root, OPTIONS, "keep")
    for change in first.changes:
        (root / change.path).write_bytes(change.after)

    second = survey_clients(root, OPTIONS, "keep")

    assert [c.path for c in first.changes] == [".cursor/mcp.json", ".mcp.json"]
    assert (second.changes, second.problems) == ([], [])
    assert [e.name for e in second.entries] == ["praxis-os", "agent-os-rag"]


def test_claude_code_settings_approve_pos_workflow_and_enable_its_server(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(
        root,
        ".mcp.json",
        json.dumps(
            {"mcpServers": {"agent-os-rag": {"type": "http", "url": "http://127.0.0.1:4242/mcp"}}}
        ),
    )
    settings = {
        "permissions": {
            "allow": [
                "Bash(ls:*)",
                "mcp__agent-os-rag__get_workflow_state",
                "mcp__agent-os-rag__complete_phase",
                "mcp__agent-os-rag__search_standards",
                "mcp__agent-os-rag",
            ]
        },
        "enabledMcpjsonServers": ["agent-os-rag", "other"],
    }
    write(root, ".claude/settings.local.json", json.dumps(settings, indent=2))

    keep = survey_clients(root, OPTIONS, "keep").changes
    remove = survey_clients(root, OPTIONS, "remove").changes

    kept = json.loads(keep[-1].after)
    assert (keep[-1].path, kept["permissions"]["allow"]) == (
        ".claude/settings.local.json",
        [
            "Bash(ls:*)",
            "mcp__pos-workflow__pos_workflow",
            "mcp__agent-os-rag__search_standards",
            "mcp__agent-os-rag",
            "mcp__pos-workflow",
        ],
    )
    assert kept["enabledMcpjsonServers"] == ["agent-os-rag", "pos-workflow", "other"]
    assert json.loads(remove[-1].after)["enabledMcpjsonServers"] == ["pos-workflow", "other"]


def test_configs_that_cannot_be_rewritten_are_problems_and_links_are_left_alone(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    write(root, ".cursor/mcp.json", '{"mcpServers": {"praxis-os": ')
    write(root, "shared-mcp.json", json.dumps({"mcpServers": {"praxis-os": PRAXIS}}))
    (root / ".mcp.json").symlink_to(root / "shared-mcp.json")
    taken = {"mcpServers": {"praxis-os": PRAXIS, "pos-workflow": {"command": "something-else"}}}
    write(root, ".roo/mcp.json", json.dumps(taken))

    found = survey_clients(root, OPTIONS, "keep")

    assert found.changes == []
    assert found.problems == [
        ".cursor/mcp.json is not valid JSON: a value is missing at line 1, column 30",
        ".roo/mcp.json: an entry named 'pos-workflow' exists and does not launch pos-workflow",
    ]
    assert found.notes == [
        ".mcp.json is a symbolic link: not rewritten (change the file it points to by hand)"
    ]


def test_user_level_configs_that_reach_this_project_are_reported_and_never_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    home = tmp_path / "home"
    desktop = {
        "mcpServers": {
            "praxis-os": {
                "command": f"{root}/.praxis-os/venv/bin/python",
                "args": ["-m", "mcp_server"],
            }
        }
    }
    config = write(home, ".config/Claude/claude_desktop_config.json", json.dumps(desktop))
    write(
        home,
        ".claude.json",
        json.dumps(
            {
                "projects": {
                    str(root): {
                        "mcpServers": {
                            "praxis": {
                                "command": "python",
                                "args": ["-m", "mcp_server"],
                                "cwd": str(root),
                            }
                        }
                    }
                }
            }
        ),
    )
    write(home, ".codeium/windsurf/mcp_config.json", "{broken")
    monkeypatch.setenv("HOME", str(home))
    before = config.read_bytes()

    found = survey_clients(root, OPTIONS, "keep")

    assert [(e.file, e.name) for e in found.user_entries] == [
        ("~/.claude.json", "praxis"),
        ("~/.config/Claude/claude_desktop_config.json", "praxis-os"),
    ]
    assert found.notes == [
        "~/.codeium/windsurf/mcp_config.json (Windsurf) was not read: ~/.codeium/windsurf/mcp_config.json "
        "is not valid JSON: expected a key at line 1, column 2"
    ]
    assert config.read_bytes() == before


def test_config_json_keeps_every_other_setting_and_loses_the_workflow_group(tmp_path: Path) -> None:
    root = project(tmp_path)
    text = (
        '{\n    "mcp": {\n        "enabled_tool_groups": ["rag", "workflow"],\n'
        '        "max_tools_warning": 20\n    },\n    "rag": {}\n}\n'
    )
    write(root, ".praxis-os/config.json", text)

    change = config_change(read_praxis_config(root))

    assert change is not None
    assert change.after.decode() == text.replace('["rag", "workflow"]', '["rag"]')
    assert change.summary == ["mcp.enabled_tool_groups ['rag', 'workflow'] -> ['rag']"]


@pytest.mark.parametrize(
    ("text", "after"),
    [
        (
            '{"mcp": {"max_tools_warning": 20}}',
            '{"mcp": {"max_tools_warning": 20, "enabled_tool_groups": ["rag", "browser"]}}',
        ),
        ('{"mcp": {"enabled_tool_groups": ["rag"]}}', None),
        ('{"mcp": {"enabled_tool_groups": ["workflow"]}}', None),
    ],
)
def test_config_json_without_groups_gets_them_written_and_without_workflow_is_left_alone(
    tmp_path: Path, text: str, after: str | None
) -> None:
    root = project(tmp_path)
    write(root, ".praxis-os/config.json", text)

    change = config_change(read_praxis_config(root))

    assert (change.after.decode() if change else None) == after


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{", ".praxis-os/config.json is not valid JSON: expected a key at line 1, column 2"),
        ('{"mcp": []}', ".praxis-os/config.json: 'mcp' is not an object"),
        (
            '{"mcp": {"enabled_tool_groups": "rag"}}',
            ".praxis-os/config.json: mcp.enabled_tool_groups is not a list of names",
        ),
    ],
)
def test_an_unusable_config_json_fails_the_praxis_server_check(
    tmp_path: Path, text: str, error: str
) -> None:
    root = project(tmp_path)
    write(root, ".praxis-os/config.json", text)

    found = survey(root, default_plan(), OPTIONS)

    assert (found.config, found.config_error) == (None, error)
    assert found.pending()[0].startswith("the praxis server serves its workflow group")


def test_with_workflow_as_its_only_group_the_praxis_server_is_switched_away_from(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    write(root, ".praxis-os/config.json", '{"mcp": {"enabled_tool_groups": ["workflow"]}}')
    write(root, ".cursor/mcp.json", json.dumps({"mcpServers": {"praxis-os": PRAXIS}}, indent=2))

    found = survey(root, default_plan(), OPTIONS)

    assert (found.mode, found.config, found.lost_tools) == ("remove", None, [])
    assert list(json.loads(found.changes[0].after)["mcpServers"]) == ["pos-workflow"]


@pytest.mark.anyio
async def test_the_checks_fail_an_unusable_config_and_note_a_client_command_in_uvs_cache(
    tmp_path: Path,
) -> None:
    broken = project(tmp_path / "broken")
    write(broken, ".praxis-os/config.json", "{")
    write(broken, ".cursor/mcp.json", '{"mcpServers": {"praxis-os": ')
    cached = project(tmp_path / "cached")
    write(cached, ".cursor/mcp.json", json.dumps({"mcpServers": {"praxis-os": PRAXIS}}))
    in_cache = ChangeOptions(client_command=("/home/u/.cache/uv/archive-v0/x1/bin/pos-workflow",))
    nothing = project(tmp_path / "plain")

    def ctx(root: Path, options: ChangeOptions = OPTIONS) -> CheckContext:
        return CheckContext(root, default_plan(), ServerLauncher(), options=options)

    praxis, clients = await check_praxis_server(ctx(broken)), await check_clients(ctx(broken))
    noted = await check_clients(ctx(cached, in_cache))
    plain = await check_praxis_server(ctx(nothing)), await check_clients(ctx(nothing))

    assert (praxis[0].status, praxis[0].reason) == (
        "FAIL",
        ".praxis-os/config.json is not valid JSON: expected a key at line 1, column 2; the praxis "
        "server would fall back to its default groups, workflow included",
    )
    assert (clients[0].status, [f.message for f in clients[0].findings]) == (
        "FAIL",
        [".cursor/mcp.json is not valid JSON: a value is missing at line 1, column 30"],
    )
    assert noted[0].status == "WARN"
    assert "lies in uv's cache, which `uv cache clean` removes" in noted[0].remediation
    assert [(r[0].status, r[0].reason) for r in plain] == [
        ("PASS", "no praxis-os server in this project"),
        ("PASS", "no client config launches or reaches the praxis server"),
    ]
