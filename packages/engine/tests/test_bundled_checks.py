"""The bundled workflows' server-checked phases, through the real engine in a temp project.

spec_creation_v1 checks that srd.md, specs.md and tasks.md exist and are not empty;
test_generation_v3 checks that the test file exists and defines a test (and, where
the project enables commands, that pytest collects it). An agent that claims a file
it did not write is refused with the field's JSON pointer; the same evidence passes
once the file is there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pos_engine import WorkflowEngine, place_example_files
from pos_engine.testing.drive import FakeClock

CHECKED = {
    "spec_creation_v1": {1: "/srd_path", 2: "/specs_path", 3: "/tasks_path"},
    "test_generation_v3": {3: "/test_file"},
}


def _engine(project: Path) -> WorkflowEngine:
    return WorkflowEngine.for_project(project, clock=FakeClock())


def _to_phase(engine: WorkflowEngine, workflow: str, wanted: int) -> tuple[str, dict[str, Any]]:
    """Start ``workflow`` and pass its phases before ``wanted`` with example files written."""
    started = engine.start_workflow(workflow, "src/shop/billing/invoice.py")
    sid, current = started["session_id"], started
    while current["phase_content"]["phase"] != wanted:
        checkpoint = current["phase_content"]["checkpoint"]
        evidence = place_example_files(engine.project_root, "work", checkpoint)
        current = engine.complete_phase(sid, current["phase_content"]["phase"], evidence)
        assert current["checkpoint_passed"], current
    return sid, current["phase_content"]["checkpoint"]


@pytest.mark.parametrize(
    ("workflow", "phase", "pointer"),
    [(w, p, ptr) for w, phases in CHECKED.items() for p, ptr in phases.items()],
)
def test_a_claimed_file_that_was_not_written_fails_its_phase_until_it_is_written(
    tmp_path: Path, workflow: str, phase: int, pointer: str
) -> None:
    engine = _engine(tmp_path)
    sid, checkpoint = _to_phase(engine, workflow, phase)
    assert [c["pointer"] for c in checkpoint["server_checks"]] == [pointer]
    evidence = checkpoint["evidence_example"]
    claimed = evidence[pointer[1:]]

    refused = engine.complete_phase(sid, phase, evidence)

    assert refused["checkpoint_passed"] is False
    assert refused["verification_errors"] == [
        {
            "pointer": pointer,
            "check": "file_exists",
            "message": f"{claimed!r}: file does not exist",
        }
    ]
    (tmp_path / claimed).parent.mkdir(parents=True)
    (tmp_path / claimed).write_text("# title\n", encoding="utf-8")
    if workflow == "spec_creation_v1":
        # An empty shell does not pass: the document must have content.
        short = engine.complete_phase(sid, phase, evidence)
        assert [e["check"] for e in short["verification_errors"]] == ["min_lines"]
        (tmp_path / claimed).write_text(
            "".join(f"- line {n}\n" for n in range(12)), encoding="utf-8"
        )
    else:
        short = engine.complete_phase(sid, phase, evidence)
        assert short["verification_errors"][0]["message"] == (
            f"{claimed!r} does not contain the literal 'def test_'"
        )
        (tmp_path / claimed).write_text("def test_total():\n    assert 1\n", encoding="utf-8")

    passed = engine.complete_phase(sid, phase, evidence)

    assert passed["checkpoint_passed"] is True
    outcomes = {(r["check"], r["outcome"]) for r in passed["verification"]}
    assert ("file_exists", "passed") in outcomes


def test_the_collect_command_is_skipped_and_recorded_where_the_project_did_not_enable_it(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    sid, checkpoint = _to_phase(engine, "test_generation_v3", 3)
    evidence = place_example_files(tmp_path, "work", checkpoint)

    passed = engine.complete_phase(sid, 3, evidence)

    command = [r for r in passed["verification"] if r["check"] == "command"]
    assert passed["checkpoint_passed"] is True
    assert [(r["outcome"], r["pointer"]) for r in command] == [("skipped", "/test_file")]
    assert "pytest_collect not run" in command[0]["message"]


@pytest.mark.slow  # runs pytest in a subprocess
def test_where_the_project_enables_it_pytest_must_collect_the_test_file(tmp_path: Path) -> None:
    config = tmp_path / ".praxis-os" / "config"
    config.mkdir(parents=True)
    (config / "gates.json").write_text(
        json.dumps(
            {
                "version": 1,
                "commands": {"enabled": True, "allow": ["test_generation_v3/pytest_collect"]},
            }
        )
    )
    engine = _engine(tmp_path)
    sid, checkpoint = _to_phase(engine, "test_generation_v3", 3)
    broken = tmp_path / "tests" / "test_broken.py"
    broken.parent.mkdir()
    broken.write_text("def test_x(:\n    pass\n", encoding="utf-8")
    evidence = {**checkpoint["evidence_example"], "test_file": "tests/test_broken.py"}

    refused = engine.complete_phase(sid, 3, evidence)

    assert refused["checkpoint_passed"] is False
    assert [(e["pointer"], e["check"]) for e in refused["verification_errors"]] == [
        ("/test_file", "command")
    ]
    broken.write_text("def test_x():\n    assert 2 > 1\n", encoding="utf-8")
    passed = engine.complete_phase(sid, 3, evidence)
    command = [r for r in passed["verification"] if r["check"] == "command"]
    assert passed["checkpoint_passed"] is True
    assert (command[0]["outcome"], command[0]["exit_code"]) == ("passed", 0)


def _checkpoint(x_verify: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    return {
        "evidence_schema": {
            "type": "object",
            "properties": {
                "report": {"type": "string", "x-verify": x_verify},
                "report_sha256": {"type": "string"},
                "notes": {
                    "type": "array",
                    "items": {"type": "string", "x-verify": {"file_exists": True}},
                },
            },
        },
        "evidence_example": example,
    }


def test_place_example_files_moves_checked_paths_into_the_folder_and_fills_in_digests(
    tmp_path: Path,
) -> None:
    checkpoint = _checkpoint(
        {
            "file_contains": {"literal": "PASS", "min_count": 2},
            "min_lines": 4,
            "file_sha256": {"digest_field": "report_sha256"},
        },
        {"report": "out/report.txt", "report_sha256": "0" * 64, "notes": ["a.md", "../b.md"]},
    )

    placed = place_example_files(tmp_path, "scratch/run", checkpoint)

    assert placed["report"] == "scratch/run/1-1/out/report.txt"
    assert placed["notes"] == ["scratch/run/2-1/a.md", "scratch/run/2-2/b.md"]
    data = (tmp_path / placed["report"]).read_bytes()
    assert data.decode().splitlines() == ["PASS", "PASS", "example line 3", "example line 4"]
    assert placed["report_sha256"] == hashlib.sha256(data).hexdigest()
    assert checkpoint["evidence_example"]["report"] == "out/report.txt"  # a copy was changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scratch"]


@pytest.mark.parametrize(
    ("x_verify", "why"),
    [
        ({"file_contains": {"regex": "^ok$"}}, "/report: no example text is generated for a regex"),
        ({"git_changed": {"ref": "main"}}, "/report: git_changed needs a change against a git"),
    ],
)
def test_place_example_files_refuses_checks_no_written_file_passes(
    tmp_path: Path, x_verify: dict[str, Any], why: str
) -> None:
    checkpoint = _checkpoint(x_verify, {"report": "r.txt", "notes": []})

    with pytest.raises(ValueError, match=why):
        place_example_files(tmp_path, "scratch", checkpoint)
