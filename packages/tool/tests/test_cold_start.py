"""Cold start: ``pos-workflow --help`` and ``--version`` never import the MCP SDK.

Each case runs in a fresh interpreter (a subprocess), the only place where what an
import pulls in can be seen: the test process itself has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pos_tool
import pytest

# Every test starts fresh interpreters (a cold start is what they measure).
pytestmark = pytest.mark.slow


# The server side's heavy imports: the MCP SDK (and its types), Starlette, uvicorn.
HEAVY = ("mcp", "mcp_types", "starlette", "uvicorn")

_PROBE = f"""
import atexit, contextlib, gc, io, json, sys

# Registered before main's own exit handlers, so it runs after them: it sees what the
# interpreter's finalisation will see.
atexit.register(lambda: print(json.dumps({{"frozen_at_exit": gc.get_freeze_count() > 0}})))
from pos_tool.cli import main

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
    """Run ``pos_tool.cli.main(argv)`` in a fresh interpreter; say what it imported."""
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
        ["serve", "--help"],
        ["demo", "--help"],
        ["stats", "--help"],
        ["dashboard", "--help"],
        ["store", "--help"],
        ["approve", "--help"],
    ],
)
def test_help_and_version_import_no_server_code(argv: list[str]) -> None:
    answer = _probe(*argv)

    assert answer["code"] == 0
    assert answer["heavy"] == []
    assert answer["frozen_at_exit"] is True  # the command's objects are not walked at exit
    assert "pos-workflow" in str(answer["out"])


def test_the_probe_sees_the_sdk_when_a_command_imports_it(tmp_path: Path) -> None:
    # serve imports the server before it checks the project root: the probe must see it,
    # or the assertions above could never fail.
    answer = _probe("serve", "--project-root", str(tmp_path / "missing"))

    assert answer["code"] == 2
    assert "mcp" in answer["heavy"]  # type: ignore[operator]


def test_the_console_script_imports_no_mcp_module_for_version() -> None:
    script = Path(sys.executable).with_name("pos-workflow")
    if not script.exists():  # pragma: no cover - the workspace always installs it
        pytest.skip("the pos-workflow console script is not installed next to this Python")
    # PYTHONPROFILEIMPORTTIME makes the interpreter list every module it imports on stderr.
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=120, env=env, check=True
    )
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    ]

    assert result.stdout.startswith(f"pos-workflow {version('pos-tool')} ")
    assert "pos_tool.cli" in imported  # the listing is real
    assert [m for m in imported if m.partition(".")[0] in HEAVY] == []


def test_every_public_name_still_resolves_and_the_version_is_the_installed_one() -> None:
    for name in pos_tool.__all__:
        assert getattr(pos_tool, name) is not None, name
    assert pos_tool.__version__ == version("pos-tool")
    assert set(dir(pos_tool)) >= set(pos_tool.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        _ = pos_tool.nonexistent  # type: ignore[attr-defined]
