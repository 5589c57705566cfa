"""The ``pos-workflow`` command: serve refuses a bad registry cleanly; demo runs the main job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pos_tool import REGISTRY_FILE, VALID_ACTIONS
from pos_tool.cli import main


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_tool", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.mark.slow
def test_a_bad_registry_file_stops_serve_with_a_message_and_no_traceback(project: Path) -> None:
    registry = project / REGISTRY_FILE
    registry.parent.mkdir(parents=True)
    registry.write_text(
        json.dumps({"version": 1, "groups": ["workflow", "bogus"]}), encoding="utf-8"
    )

    result = _run("serve", "--project-root", str(project))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "pos-workflow: cannot start: .praxis-os/config/tool-registry.json: names unknown group 'bogus'"
    )
    assert "Traceback" not in result.stderr
    assert str(project) not in result.stderr


@pytest.mark.slow
def test_serve_refuses_a_missing_project_root_and_does_not_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "does" / "not" / "exist"

    result = _run("serve", "--project-root", str(missing))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"pos-workflow: project root {str(missing)!r} does not exist (it is not created); "
        "pass --project-root with the project's folder\n"
    )
    assert not (tmp_path / "does").exists()


def test_serve_refuses_a_project_root_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("x", encoding="utf-8")

    assert main(["serve", "--project-root", str(afile)]) == 2
    assert afile.read_text(encoding="utf-8") == "x"


@pytest.mark.slow
def test_python_m_pos_tool_serves_by_default(project: Path) -> None:
    (project / REGISTRY_FILE).parent.mkdir(parents=True)
    (project / REGISTRY_FILE).write_text("{", encoding="utf-8")

    result = _run("--project-root", str(project))

    assert result.returncode == 2
    assert "is not valid JSON" in result.stderr


@pytest.mark.slow
def test_help_names_both_commands() -> None:
    result = _run("--help")

    assert result.returncode == 0
    assert "serve" in result.stdout and "demo" in result.stdout


def test_main_returns_the_exit_code_instead_of_raising(project: Path) -> None:
    (project / REGISTRY_FILE).parent.mkdir(parents=True)
    (project / REGISTRY_FILE).write_text("[]", encoding="utf-8")

    assert main(["serve", "--project-root", str(project)]) == 2


@pytest.mark.slow
def test_the_demo_drives_test_generation_v3_to_completion_over_stdio(tmp_path: Path) -> None:
    project = tmp_path / "demo"

    result = _run("demo", "--project-root", str(project))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    steps = [line.split() for line in lines if line.split() and line.split()[0] in VALID_ACTIONS]
    assert [s[0] for s in steps][:2] == ["list_workflows", "start"]
    assert [s[1] for s in steps if s[0] == "complete_phase"] == ["1", "2", "3", "4", "5"]
    assert all(s[2] == "success" and s[-1] == "ms" for s in steps)
    assert lines[-1].startswith("test_generation_v3 completed: phases [1, 2, 3, 4, 5]")
    assert (project / "src" / "calculator.py").is_file()
    assert list((project / ".praxis-os" / "state" / "workflows").glob("*.json"))


@pytest.mark.slow
def test_the_demo_reports_an_unknown_workflow_and_exits_non_zero(tmp_path: Path) -> None:
    result = _run(
        "demo", "--project-root", str(tmp_path / "demo"), "--workflow", "no_such_workflow"
    )

    assert result.returncode == 1
    assert "demo failed: start failed: workflow_type 'no_such_workflow' not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_names_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version  # noqa: PLC0415

    with pytest.raises(SystemExit) as done:
        main(["--version"])

    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"pos-workflow {version('pos-tool')} (pos-engine {version('pos-engine')}, "
        f"mcp {version('mcp')})"
    )
