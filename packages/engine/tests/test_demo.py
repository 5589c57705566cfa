"""The engine demo drives a bundled workflow to completion and prints each step."""

from __future__ import annotations

from pathlib import Path

import pytest
from pos_engine._demo import main, run_demo

# slow: every test here is slow (see the slow marker)
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workflow", ["test_generation_v3", "spec_creation_v1"])
def test_the_demo_completes_a_bundled_workflow_and_prints_every_step(
    tmp_path: Path, workflow: str
) -> None:
    lines: list[str] = []
    state = run_demo(tmp_path, workflow, lines.append)
    assert state["session_status"] == "completed"
    assert any("complete_phase" in line and "failed" in line for line in lines)
    assert lines[-1].startswith(f"completed phases {state['completed_phases']} of {workflow}")


def test_the_demo_command_runs_in_a_scratch_folder_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    assert "completed phases [1, 2, 3, 4, 5] of test_generation_v3" in capsys.readouterr().out


def test_the_demo_command_keeps_a_given_project(tmp_path: Path) -> None:
    assert main(["--project-root", str(tmp_path), "--workflow", "spec_creation_v1"]) == 0
    assert list((tmp_path / ".praxis-os" / "state" / "workflows").glob("*.json"))
