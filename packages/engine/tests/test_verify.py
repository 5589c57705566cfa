"""Server-checked evidence: x-verify declarations and the checks the server runs for real."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pos_engine import (
    ConflictError,
    DefinitionError,
    GateSettings,
    WorkflowEngine,
    WorkflowRegistry,
    load_definition,
    load_gate_settings,
    verify_evidence,
)
from pos_engine._verify import ServerChecks
from pos_engine._verify_command import run_command
from pos_engine._verify_spec import CommandSpec

TASK = """# Task 1: Do it

**Estimated duration:** 5 minutes

Do the thing.

## Execution steps

### Step 1: Look
Command: `ls {target_file}`
Expected output: The file.

## Artifacts to produce

- `report`: The file written.
"""

ENABLED = GateSettings(commands_enabled=True)
OFF = GateSettings()


def write_workflow(
    project: Path,
    properties: dict[str, Any],
    example: dict[str, Any],
    *,
    commands: dict[str, Any] | None = None,
    name: str = "verified_v1",
) -> Path:
    folder = project / ".praxis-os" / "workflows" / name
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "phases" / "1").mkdir(parents=True)
    metadata: dict[str, Any] = {
        "workflow_type": name,
        "version": "1.0.0",
        "name": "Verified",
        "description": "A workflow whose evidence the server checks.",
        "category": "testing",
        "start_phase": 1,
        "phases": [
            {
                "number": 1,
                "title": "Write it",
                "purpose": "Write the report.",
                "tasks": [{"number": 1, "name": "do-it", "file": "task-1-do-it.md"}],
                "checkpoint": {
                    "required_evidence": sorted(example),
                    "evidence_schema": {"type": "object", "properties": properties},
                    "validation": "The report exists.",
                    "evidence_example": example,
                },
            }
        ],
    }
    if commands is not None:
        metadata["commands"] = commands
    (folder / "metadata.json").write_text(json.dumps(metadata))
    (folder / "phases" / "1" / "phase.md").write_text("# Phase 1\n")
    (folder / "phases" / "1" / "task-1-do-it.md").write_text(TASK)
    return folder


def _example(schema: dict[str, Any]) -> Any:
    return [_example(schema["items"])] if schema.get("type") == "array" else "x"


def checkpoint_of(project: Path, properties: dict[str, Any], **kwargs: Any) -> Any:
    example = {name: _example(schema) for name, schema in properties.items()}
    folder = write_workflow(project, properties, example, **kwargs)
    return load_definition(folder, "project").phase(1).checkpoint


def verify(
    project: Path,
    properties: dict[str, Any],
    evidence: dict[str, Any],
    settings: GateSettings = OFF,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    checkpoint = checkpoint_of(project, properties, **kwargs)
    report = verify_evidence(
        project,
        checkpoint,
        evidence,
        workflow_type="verified_v1",
        target_file="src/calculator.py",
        settings=settings,
    )
    return report.records


def outcomes(records: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(r["pointer"], r["check"], r["outcome"]) for r in records]


REPORT = {"report": {"type": "string", "x-verify": {"file_exists": True}}}


# ------------------------------------------------------------------ declarations


@pytest.mark.parametrize(
    ("properties", "commands", "message"),
    [
        (
            {"a": {"anyOf": [{"type": "string", "x-verify": {"file_exists": True}}]}},
            None,
            "x-verify is applied only on properties reached through 'properties' and 'items'",
        ),
        (
            {"a": {"type": "string", "x-verify": {"file_exits": True}}},
            None,
            "evidence_schema/properties/a/x-verify: Additional properties are not allowed "
            "('file_exits' was unexpected)",
        ),
        (
            {"a": {"type": "string", "x-verify": {"command": "pytest_run"}}},
            {"other": {"argv": ["true"], "description": "d"}},
            "'pytest_run' is not declared in metadata.json commands (declared: other)",
        ),
        (
            {"a": {"type": "string", "x-verify": {"file_contains": {"regex": "(a)\\1"}}}},
            None,
            "cannot run on a linear-time regex engine",
        ),
        (
            {"a": {"type": "string", "x-verify": {"file_sha256": {"digest_field": "nope"}}}},
            None,
            "'nope' is not a property beside the checked field",
        ),
        (
            {"a": {"type": "string", "x-verify": {"git_changed": {"ref": "--output=x"}}}},
            None,
            "does not match",
        ),
    ],
)
def test_a_malformed_x_verify_makes_the_workflow_invalid_naming_the_field(
    tmp_path: Path, properties: dict[str, Any], commands: dict[str, Any] | None, message: str
) -> None:
    folder = write_workflow(tmp_path, properties, {"a": "x"}, commands=commands)
    with pytest.raises(DefinitionError) as caught:
        load_definition(folder, "project")
    assert message in caught.value.message


def test_x_verify_at_the_top_of_the_schema_or_in_defs_is_refused(tmp_path: Path) -> None:
    folder = write_workflow(tmp_path, REPORT, {"report": "r.txt"})
    metadata = json.loads((folder / "metadata.json").read_text())
    schema = metadata["phases"][0]["checkpoint"]["evidence_schema"]
    schema["$defs"] = {"p": {"type": "string", "x-verify": {"file_exists": True}}}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DefinitionError, match=r"evidence_schema/\$defs/p/x-verify: x-verify is"):
        load_definition(folder, "project")


def test_a_command_placeholder_must_be_known_and_never_the_program(tmp_path: Path) -> None:
    for argv, message in (
        (["pytest", "{file}"], "unknown placeholder {file}"),
        (["{path}"], "the program cannot come from a placeholder"),
    ):
        folder = write_workflow(
            tmp_path,
            {"a": {"type": "string", "x-verify": {"command": "c"}}},
            {"a": "x"},
            commands={"c": {"argv": argv, "description": "d"}},
        )
        with pytest.raises(DefinitionError, match=message):
            load_definition(folder, "project")


def test_phase_content_tells_the_agent_what_the_server_checks(tmp_path: Path) -> None:
    checkpoint = checkpoint_of(
        tmp_path,
        {
            "files": {
                "type": "array",
                "items": {"type": "string", "x-verify": {"min_lines": 2, "command": "c"}},
            }
        },
        commands={"c": {"argv": ["true", "{path}"], "description": "it is true"}},
    )
    shown = checkpoint.to_dict()
    assert shown["server_checks"] == [
        {
            "pointer": "/files/*",
            "checks": [
                "file_exists: a regular file inside the project",
                "min_lines: at least 2 non-blank lines",
                "command: c (run only where the project enables commands)",
            ],
        }
    ]
    assert shown["commands"] == [
        {
            "name": "c",
            "argv": ["true", "{path}"],
            "description": "it is true",
            "timeout_seconds": 60.0,
            "expect_exit": [0],
        }
    ]


# ------------------------------------------------------------------ file checks


def test_a_missing_file_fails_file_exists_with_its_pointer(tmp_path: Path) -> None:
    records = verify(tmp_path, REPORT, {"report": "docs/report.md"})
    assert records == [
        {
            "pointer": "/report",
            "check": "file_exists",
            "outcome": "failed",
            "message": "'docs/report.md': file does not exist",
            "path": "docs/report.md",
        }
    ]


def test_an_existing_file_passes_with_its_size_and_digest(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "report.md").write_bytes(b"# Report\n")
    records = verify(tmp_path, REPORT, {"report": "docs/./report.md"})
    assert records == [
        {
            "pointer": "/report",
            "check": "file_exists",
            "outcome": "passed",
            "message": "'docs/report.md': a regular file of 9 bytes",
            "path": "docs/report.md",
            "size": 9,
            "sha256": hashlib.sha256(b"# Report\n").hexdigest(),
        }
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../outside.txt", "leads outside the project root"),
        ("/etc/passwd", "is an absolute path"),
        ("docs", "'docs': the file is not a regular file (a FIFO, device or folder)"),
        ("link_out", "leads outside the project root"),
        (7, "expected a file path, got int"),
    ],
)
def test_a_path_outside_the_project_or_not_a_regular_file_fails(
    tmp_path: Path, value: object, message: str
) -> None:
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("secret\n")
    (project / "link_out").symlink_to(tmp_path / "outside.txt")
    records = verify(project, REPORT, {"report": value})
    assert [r["outcome"] for r in records] == ["failed"]
    assert message in records[0]["message"]
    assert str(tmp_path) not in json.dumps(records)


def test_a_symlink_inside_the_project_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("text\n")
    (tmp_path / "alias.md").symlink_to(tmp_path / "real.md")
    records = verify(tmp_path, REPORT, {"report": "alias.md"})
    assert outcomes(records) == [("/report", "file_exists", "passed")]
    assert records[0]["path"] == "real.md"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    records = verify(tmp_path, REPORT, {"report": "pipe"})
    assert records[0]["outcome"] == "failed"
    assert "is not a regular file" in records[0]["message"]


def test_a_file_over_the_size_limit_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pos_engine._verify.MAX_VERIFIED_FILE_BYTES", 10)
    (tmp_path / "big.txt").write_bytes(b"x" * 11)
    records = verify(tmp_path, REPORT, {"report": "big.txt"})
    assert records[0]["message"] == "'big.txt': the file is 11 bytes, over the 10 bytes allowed"


def test_file_sha256_compares_the_claimed_digest_with_the_file_now(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"print(1)\n")
    real = hashlib.sha256(b"print(1)\n").hexdigest()
    properties = {
        "file": {"type": "string", "x-verify": {"file_sha256": {"digest_field": "sha"}}},
        "sha": {"type": "string"},
    }
    passed = verify(tmp_path, properties, {"file": "a.py", "sha": real.upper()})
    assert outcomes(passed) == [
        ("/file", "file_exists", "passed"),
        ("/sha", "file_sha256", "passed"),
    ]
    failed = verify(tmp_path, properties, {"file": "a.py", "sha": "0" * 64})
    assert failed[1] == {
        "pointer": "/sha",
        "check": "file_sha256",
        "outcome": "failed",
        "message": f"claims sha256 '{'0' * 64}' for 'a.py', but the file's is {real}",
        "path": "a.py",
        "sha256": real,
    }


def test_file_contains_counts_literals_and_linear_time_regex_matches(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("def test_a():\n    pass\n\nasync def test_b():\n    pass\n")
    rules = [
        {"literal": "def test_", "min_count": 2},
        {"regex": "(?m)^(async )?def test_", "min_count": 3},
        {"literal": "assert"},
    ]
    properties = {"t": {"type": "string", "x-verify": {"file_contains": rules}}}
    records = verify(tmp_path, properties, {"t": "t.py"})
    assert [(r["outcome"], r["message"]) for r in records[1:]] == [
        ("passed", "'t.py' contains the literal 'def test_' at least 2 times"),
        (
            "failed",
            "'t.py' contains the regex '(?m)^(async )?def test_' at least 3 times only 2 time(s)",
        ),
        ("failed", "'t.py' does not contain the literal 'assert'"),
    ]


def test_a_regex_on_a_file_that_is_not_utf8_fails_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "bin.dat").write_bytes(b"\xff\xfe")
    properties = {"f": {"type": "string", "x-verify": {"file_contains": {"regex": "a"}}}}
    records = verify(tmp_path, properties, {"f": "bin.dat"})
    assert records[1]["message"] == (
        "'bin.dat' is not UTF-8 text (byte 0), so the regex cannot be matched"
    )


def test_min_lines_counts_only_lines_that_are_not_blank(tmp_path: Path) -> None:
    (tmp_path / "srd.md").write_text("\n   \n# Title\n\n")
    properties = {"f": {"type": "string", "x-verify": {"min_lines": 2}}}
    records = verify(tmp_path, properties, {"f": "srd.md"})
    assert records[1] == {
        "pointer": "/f",
        "check": "min_lines",
        "outcome": "failed",
        "message": "'srd.md': 1 non-blank line(s), at least 2 required",
        "path": "srd.md",
        "lines": 1,
    }


def test_checks_on_array_items_name_each_items_pointer(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    properties = {
        "files": {"type": "array", "items": {"type": "string", "x-verify": {"file_exists": True}}}
    }
    records = verify(tmp_path, properties, {"files": ["a.txt", "b.txt"]})
    assert outcomes(records) == [
        ("/files/0", "file_exists", "passed"),
        ("/files/1", "file_exists", "failed"),
    ]


def test_more_values_than_one_checkpoint_verifies_fail_the_checkpoint(tmp_path: Path) -> None:
    properties = {
        "files": {"type": "array", "items": {"type": "string", "x-verify": {"file_exists": True}}}
    }
    records = verify(tmp_path, properties, {"files": ["a"] * 101})
    assert len(records) == 1
    assert "names 101 files to verify, more than the 100" in records[0]["message"]


# ------------------------------------------------------------------ git


def git(root: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "project" / "src").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "project" / "src" / "a.py").write_text("a = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


GIT = {
    "file": {"type": "string", "x-verify": {"git_changed": {"ref_field": "base"}}},
    "base": {"type": "string"},
}


def test_git_changed_fails_for_a_file_unchanged_since_the_ref(repo: Path) -> None:
    project = repo / "project"  # the project is a folder inside the repository
    head = git(repo, "rev-parse", "HEAD")
    records = verify(project, GIT, {"file": "src/a.py", "base": "HEAD"})
    assert records[1] == {
        "pointer": "/file",
        "check": "git_changed",
        "outcome": "failed",
        "message": f"'src/a.py': unchanged since HEAD ({head[:12]})",
        "path": "src/a.py",
        "ref": "HEAD",
        "commit": head,
    }


def test_git_changed_passes_for_an_edited_or_a_new_file(repo: Path) -> None:
    project = repo / "project"
    head = git(repo, "rev-parse", "HEAD")
    (project / "src" / "a.py").write_text("a = 2\n")
    (project / "src" / "b.py").write_text("b = 1\n")
    edited = verify(project, GIT, {"file": "src/a.py", "base": head[:7]})
    new = verify(project, GIT, {"file": "src/b.py", "base": "main"})
    assert edited[1]["message"] == f"'src/a.py': changed since {head[:7]} ({head[:12]})"
    assert new[1]["message"] == f"'src/b.py': absent at main ({head[:12]}): a new file"
    assert [edited[1]["outcome"], new[1]["outcome"]] == ["passed", "passed"]


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("v9", "revision 'v9' does not exist in the repository"),
        ("--output=/tmp/x", "is not a revision name git accepts"),
        ("main..HEAD", "is not a revision name git accepts"),
    ],
)
def test_git_changed_fails_on_a_revision_it_cannot_use(repo: Path, base: str, message: str) -> None:
    records = verify(repo / "project", GIT, {"file": "src/a.py", "base": base})
    assert records[1]["outcome"] == "failed"
    assert message in records[1]["message"]


def test_git_changed_outside_a_repository_fails(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "a.py").write_text("a\n")
    records = verify(tmp_path, GIT, {"file": "a.py", "base": "HEAD"})
    assert records[1]["outcome"] == "failed"
    assert "not a git repository" in records[1]["message"]


def test_git_runs_no_hook_fsmonitor_or_filter_of_the_repository(repo: Path) -> None:
    marker = repo / "ran"
    hook = repo / "evil.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    git(repo, "config", "core.hooksPath", str(repo))
    git(repo, "config", "filter.evil.clean", str(hook))
    (repo / "project" / ".gitattributes").write_text("*.py filter=evil\n")
    (repo / "project" / "src" / "a.py").write_text("a = 3\n")
    records = verify(repo / "project", GIT, {"file": "src/a.py", "base": "HEAD"})
    assert records[1]["outcome"] == "passed"
    assert not marker.exists()


# ------------------------------------------------------------------ commands


def python_command(code: str, **extra: Any) -> dict[str, Any]:
    return {"argv": [sys.executable, "-c", code, "{path}"], "description": "runs python", **extra}


def command_check(
    project: Path, code: str, settings: GateSettings = ENABLED, **extra: Any
) -> list[dict[str, Any]]:
    (project / "t.py").write_text("def test_x(): pass\n")
    properties = {"t": {"type": "string", "x-verify": {"command": "check"}}}
    commands = {"check": python_command(code, **extra)}
    return verify(project, properties, {"t": "t.py"}, settings, commands=commands)


def test_a_command_is_skipped_unless_the_project_enables_commands(tmp_path: Path) -> None:
    records = command_check(tmp_path, "raise SystemExit(3)", settings=OFF)
    assert records[1] == {
        "pointer": "/t",
        "check": "command",
        "outcome": "skipped",
        "message": "check not run: command checks are off in this project; to run them, set "
        '"commands": {"enabled": true} in .praxis-os/config/gates.json',
    }


def test_an_enabled_command_runs_on_the_file_in_the_project(tmp_path: Path) -> None:
    code = "import os, sys; print(os.getcwd() == os.environ['EXPECT'], sys.argv[1])"
    records = command_check(tmp_path, code, env={"EXPECT": str(tmp_path)})
    record = records[1]
    assert (record["outcome"], record["exit_code"], record["output_tail"]) == (
        "passed",
        0,
        "True t.py\n",
    )
    assert record["argv"] == [sys.executable, "-c", code, "t.py"]
    assert record["duration_seconds"] >= 0


def test_a_failing_command_fails_the_check_with_its_exit_code_and_output(tmp_path: Path) -> None:
    records = command_check(tmp_path, "print('collected 0 items'); raise SystemExit(5)")
    assert records[1]["outcome"] == "failed"
    assert records[1]["exit_code"] == 5
    assert records[1]["message"] == (
        "'t.py': check exited 5, expected 0 (last output line: collected 0 items)"
    )


def test_a_command_gets_no_server_secrets_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_WORKFLOW_STORE", "postgresql://u:secret@db/x")
    records = command_check(tmp_path, "import os; print(sorted(os.environ))")
    assert "POS_WORKFLOW_STORE" not in records[1]["output_tail"]
    assert "PATH" in records[1]["output_tail"]


@pytest.mark.slow
def test_a_command_past_its_time_limit_is_killed_with_its_children(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time;"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print('started', flush=True); time.sleep(60)"
    )
    records = command_check(tmp_path, code, timeout_seconds=1)
    assert records[1]["outcome"] == "failed"
    assert records[1]["message"] == "'t.py': check did not finish within 1 s and was stopped"
    assert records[1]["output_tail"] == "started\n"


def test_a_command_that_writes_too_much_is_stopped(tmp_path: Path) -> None:
    code = "import sys\nwhile True: sys.stdout.write('x' * 65536)"
    records = command_check(tmp_path, code, max_output_bytes=1024)
    assert records[1]["outcome"] == "failed"
    assert "wrote more than 1024 bytes of output and was stopped" in records[1]["message"]
    assert len(records[1]["output_tail"]) <= 2000


def test_only_allowed_commands_run_and_the_server_can_turn_all_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_other = GateSettings(commands_enabled=True, allowed_commands=frozenset({"x/y"}))
    records = command_check(tmp_path, "pass", settings=allow_other)
    assert records[1]["message"] == (
        "check not run: verified_v1/check is not in commands.allow of .praxis-os/config/gates.json"
    )
    config = tmp_path / ".praxis-os" / "config"
    config.mkdir(parents=True)
    (config / "gates.json").write_text('{"version": 1, "commands": {"enabled": true}}')
    monkeypatch.setenv("POS_WORKFLOW_COMMAND_CHECKS", "off")
    settings = load_gate_settings(tmp_path)
    assert settings.command_refusal("verified_v1", "check") == (
        "command checks are turned off on this server (POS_WORKFLOW_COMMAND_CHECKS=off)"
    )


def test_a_path_that_reads_as_an_option_is_never_passed_to_a_command(tmp_path: Path) -> None:
    spec = CommandSpec(name="c", argv=(sys.executable, "-c", "pass", "{path}"), description="d")
    (tmp_path / "-rf").write_text("x\n")
    outcome = run_command(spec, tmp_path, path="-rf", target_file="src/a.py")
    assert (outcome.passed, outcome.exit_code) == (False, None)
    assert (
        outcome.message
        == "c not run: path '-rf' starts with '-', which a command would read as an option"
    )


def test_a_program_missing_from_path_fails_without_running(tmp_path: Path) -> None:
    spec = CommandSpec(name="c", argv=("no-such-program-xyz", "{path}"), description="d")
    outcome = run_command(spec, tmp_path, path="a.txt", target_file="a.txt")
    assert (
        outcome.message
        == "c not run: program 'no-such-program-xyz' is not found on the server's PATH"
    )


def test_commands_run_only_when_every_other_check_passed(tmp_path: Path) -> None:
    properties = {
        "t": {"type": "string", "x-verify": {"min_lines": 5, "command": "check"}},
    }
    (tmp_path / "t.py").write_text("x\n")
    commands = {"check": python_command("raise SystemExit(1)")}
    records = verify(tmp_path, properties, {"t": "t.py"}, ENABLED, commands=commands)
    assert outcomes(records) == [
        ("/t", "file_exists", "passed"),
        ("/t", "min_lines", "failed"),
        ("/t", "command", "skipped"),
    ]


# ------------------------------------------------------------------ settings file


@pytest.mark.slow
def test_a_broken_gates_file_refuses_checkpoints_until_it_is_fixed(tmp_path: Path) -> None:
    config = tmp_path / ".praxis-os" / "config"
    config.mkdir(parents=True)
    (config / "gates.json").write_text('{"version": 1, "commands": {"enabled": "yes"}}')
    settings = load_gate_settings(tmp_path)
    assert settings.problem == (
        ".praxis-os/config/gates.json does not match specs/gates-config.schema.json at "
        "/commands/enabled: 'yes' is not of type 'boolean'"
    )
    engine = WorkflowEngine.for_project(tmp_path, durable=False)
    (tmp_path / "src").mkdir()
    started = engine.start_workflow("test_generation_v3", "src/a.py")
    with pytest.raises(ValueError, match="the project's gate settings are unusable"):
        engine.complete_phase(started["session_id"], 1, {})
    (config / "gates.json").write_text("not json")
    assert "cannot be read: it is not valid JSON" in (load_gate_settings(tmp_path).problem or "")


def test_the_packaged_gates_schema_equals_the_spec() -> None:
    repo = Path(__file__).resolve().parents[3]
    packaged = Path(__file__).resolve().parents[1] / "src" / "pos_engine" / "schemas"
    assert (packaged / "gates-config.schema.json").read_bytes() == (
        repo / "specs" / "gates-config.schema.json"
    ).read_bytes()


# ------------------------------------------------------------------ outside the lock


def test_a_file_that_changes_after_it_was_verified_refuses_the_call(tmp_path: Path) -> None:
    (tmp_path / "r.md").write_text("one\n")
    checkpoint = checkpoint_of(tmp_path, REPORT)
    checks = ServerChecks(tmp_path, {"report": "r.md"}, OFF)
    checks.prime(checkpoint, workflow_type="verified_v1", target_file="r.md", schema_passed=True)
    assert checks.result(checkpoint) is not None
    (tmp_path / "r.md").write_text("one and two\n")
    with pytest.raises(
        ConflictError, match=r"'r\.md' changed while the evidence was being verified"
    ):
        checks.result(checkpoint)


def test_a_checkpoint_not_primed_is_refused_rather_than_checked_inside_the_lock(
    tmp_path: Path,
) -> None:
    checkpoint = checkpoint_of(tmp_path, REPORT)
    with pytest.raises(ConflictError, match="the workflow definition changed"):
        ServerChecks(tmp_path, {"report": "r.md"}, OFF).result(checkpoint)


@pytest.mark.slow
def test_the_registry_reports_the_example_workflow_with_checks_as_valid(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[3] / "docs" / "examples" / "workflows"
    shutil.copytree(
        example / "verified_change_v1", tmp_path / ".praxis-os" / "workflows" / "verified_change_v1"
    )
    registry = WorkflowRegistry(tmp_path)
    assert registry.problems() == []
    definition = registry.get("verified_change_v1")
    assert [[c.pointer for c in definition.phase(n).checkpoint.verify] for n in (1, 2, 3)] == [
        ["/changed_file"],
        ["/test_file"],
        ["/files_touched/*"],
    ]
