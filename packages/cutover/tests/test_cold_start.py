"""Cold start: the ``pos-cutover`` commands that start no server never import the MCP SDK.

``--help``, ``--version``, ``guide``, ``demo``, ``report``, and every usage error: the SDK's
import is most of a cold start.

Each case runs in a fresh interpreter: the test process has long imported everything.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pos_cutover
import pytest
from pos_cutover import ServerLauncher, migration_table_markdown

# Every test starts fresh interpreters (a cold start is what they measure).
pytestmark = pytest.mark.slow


HEAVY = ("mcp", "mcp_types", "starlette", "uvicorn")

_PROBE = f"""
import atexit, contextlib, gc, io, json, sys

# Registered before main's own exit handlers, so it runs after them: it sees what the
# interpreter's finalisation will see.
atexit.register(lambda: print(json.dumps({{"frozen_at_exit": gc.get_freeze_count() > 0}})))
from pos_cutover.cli import main

out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
heavy = sorted(m for m in sys.modules if m.partition(".")[0] in {HEAVY!r})
print(json.dumps({{"code": code, "heavy": heavy, "out": out.getvalue()}}))
"""


def _probe(*argv: str) -> dict[str, object]:
    """Run ``pos_cutover.cli.main(argv)`` in a fresh interpreter; say what it imported."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    *_, line, at_exit = result.stdout.splitlines()
    answer: dict[str, object] = json.loads(line) | json.loads(at_exit)
    return answer


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--help"],
        ["run", "--help"],
        ["check", "--help"],
        ["backup", "--help"],
        ["report", "--help"],
        ["demo", "--help"],
        ["guide"],
    ],
)
def test_commands_that_start_no_server_import_no_server_code(argv: list[str]) -> None:
    answer = _probe(*argv)

    assert answer["code"] == 0
    assert answer["heavy"] == []
    assert answer["frozen_at_exit"] is True  # the command's objects are not walked at exit
    assert answer["out"]


def test_guide_still_prints_the_table_without_the_sdk() -> None:
    answer = _probe("guide")

    assert answer["out"] == migration_table_markdown()


@pytest.mark.parametrize("command", ["run", "verify", "rollback", "report"])
def test_a_usage_error_is_told_without_importing_server_code(command: str, tmp_path: Path) -> None:
    answer = _probe(command, "--project", str(tmp_path / "missing"))

    assert answer["code"] == 2
    assert answer["heavy"] == []


def test_report_of_a_cut_over_project_imports_no_server_code(
    demo: Path, cli: Callable[..., Any]
) -> None:
    assert cli("run", "--project", str(demo)).code == 0
    in_process = cli("report", "--project", str(demo), "--json", server=False)

    answer = _probe("report", "--project", str(demo), "--json")

    assert answer["code"] == 0
    assert answer["heavy"] == []
    fresh = json.loads(str(answer["out"]))
    assert (fresh["command"], fresh["outcome"]) == ("report", "ok")
    assert fresh["report"]["markdown"] == json.loads(in_process.out)["report"]["markdown"]
    assert "✅ Approve for production use" in fresh["report"]["markdown"]


def test_the_probe_sees_the_sdk_when_a_command_imports_it(demo: Path) -> None:
    # backup starts the canary session through a real server: the probe must see the SDK,
    # or the assertions above could never fail.
    server = shlex.join(ServerLauncher().command)
    answer = _probe("backup", "--project", str(demo), "--server-command", server)

    assert answer["code"] == 0
    assert "mcp" in answer["heavy"]  # type: ignore[operator]


def test_a_submodule_alone_still_gets_the_built_in_checks_and_steps() -> None:
    # The package no longer imports its parts eagerly; the registries load them on use.
    program = (
        "import json\n"
        "from pos_cutover._checks import registered_checks\n"
        "from pos_cutover._migrate import registered_migration_steps\n"
        "print(json.dumps([list(registered_checks()), "
        "[s.name for s in registered_migration_steps()]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )

    checks, steps = json.loads(result.stdout)
    # The same built-ins, in the order the package registers them.
    assert checks == list(pos_cutover.registered_checks())
    assert "session-store" in checks
    assert "legacy-sessions" in checks
    assert steps == [step.name for step in pos_cutover.registered_migration_steps()]
    assert steps == ["legacy-sessions"]


def test_every_public_name_resolves_and_an_unknown_one_is_an_attribute_error() -> None:
    for name in pos_cutover.__all__:
        assert getattr(pos_cutover, name) is not None, name
    assert set(dir(pos_cutover)) >= set(pos_cutover.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        _ = pos_cutover.nonexistent  # type: ignore[attr-defined]
