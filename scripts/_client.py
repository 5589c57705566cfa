"""Shared helpers of the contract, smoke and perf gates (scripts/contracts.py, smoke.py, perf.py).

Not a package module: the scripts import it by putting ``scripts/`` on ``sys.path``
(running ``python scripts/x.py`` does that already), and the contract test does the same.

It holds four things the gates share:

- the contracts in ``specs/``: a ``referencing.Registry`` of every schema by ``$id``
  and validators for the request and each action's response;
- a small fixture workflow written into a scratch project, so the gates never depend
  on which workflows happen to be bundled;
- :func:`call`: one ``pos_workflow`` call through any MCP client, returning the
  response payload, the raw result and the elapsed milliseconds;
- :func:`scenario`: the scripted walk through all 14 actions (successes and
  representative errors) that contracts.py validates in-process and smoke.py replays
  over stdio.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from pos_cutover import percentile
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "ACTIONS",
    "FIXTURE_WORKFLOW",
    "MISSING_SESSION",
    "REPO_ROOT",
    "SPECS_DIR",
    "SPEC_BASE",
    "TARGET_FILE",
    "TOOL_NAME",
    "WORKFLOW_SPECS",
    "Call",
    "Step",
    "call",
    "deterministic",
    "error_messages",
    "install_example_spec",
    "install_fixture_workflow",
    "load_schemas",
    "percentile",
    "print_table",
    "registry",
    "request_validator",
    "response_problems",
    "response_validator",
    "scenario",
    "schema_validator",
    "stdio_params",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = REPO_ROOT / "specs"
EXAMPLE_SPEC = REPO_ROOT / "docs" / "examples" / "specs" / "2025-10-22-aos-workflow-tool"
"""A real spec folder (the plan pos_workflow was built from), for dynamic workflows."""
WORKFLOW_SPECS = SPECS_DIR / "pos_workflow"
TOOL_NAME = "pos_workflow"
SPEC_BASE = "https://pos-workflow.dev/specs/pos_workflow/"

# ----------------------------------------------------------------------------- contracts


@cache
def load_schemas() -> dict[Path, dict[str, Any]]:
    """Return every ``*.schema.json`` under specs/, keyed by path (cached)."""
    return {
        path: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SPECS_DIR.rglob("*.schema.json"))
    }


@cache
def registry() -> Registry:
    """Return a registry of every schema under specs/ by ``$id`` (cached)."""
    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in load_schemas().values()
        if "$id" in schema
    ]
    return Registry().with_resources(resources)


@cache
def schema_validator(uri: str) -> Validator:
    """Return a validator for the schema at ``uri`` (an ``$id``, optionally with a fragment).

    Relative ``$ref`` between files resolve through the registry of every spec.
    """
    base, _, fragment = uri.partition("#")
    schema: dict[str, Any] = {"$ref": uri} if fragment else registry().contents(base)
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, registry=registry())


def request_validator() -> Validator:
    """Validator of the pos_workflow arguments (specs/pos_workflow/request.schema.json)."""
    return schema_validator(SPEC_BASE + "request.schema.json")


def response_validator(action: str) -> Validator:
    """Validator of one action's responses; an unknown action gets the unknown-action error shape."""
    if action in ACTIONS:
        return schema_validator(f"{SPEC_BASE}responses/{action}.schema.json")
    return schema_validator(SPEC_BASE + "common.schema.json#/$defs/unknown_action_error")


def response_problems(action: str, payload: Any) -> list[str]:
    """Return why ``payload`` breaks ``action``'s response contract (empty when it conforms).

    The contract is the whole ``oneOf``; the messages come from the branch the
    payload's status selects, which names the real problem instead of "not the other branch".
    """
    validator = response_validator(action)
    if validator.is_valid(payload):
        return []
    status = payload.get("status") if isinstance(payload, dict) else None
    if action in ACTIONS and status in ("success", "error"):
        validator = schema_validator(f"{SPEC_BASE}responses/{action}.schema.json#/$defs/{status}")
    return error_messages(validator, payload) or ["does not match the response schema"]


def error_messages(validator: Validator, instance: Any, limit: int = 3) -> list[str]:
    """Return up to ``limit`` schema errors as ``/json/pointer: message`` lines, most relevant first."""
    from jsonschema.exceptions import best_match, relevance  # noqa: PLC0415 - failure path only

    errors = sorted(validator.iter_errors(instance), key=relevance, reverse=True)
    lines = []
    for error in errors[:limit]:
        deepest = best_match([error]) or error  # descends into oneOf/anyOf branches
        where = "/" + "/".join(str(p) for p in deepest.absolute_path)
        lines.append(f"{where}: {deepest.message[:200]}")
    return lines


ACTIONS: tuple[str, ...] = tuple(
    json.loads((WORKFLOW_SPECS / "request.schema.json").read_text(encoding="utf-8"))["properties"][
        "action"
    ]["enum"]
)
"""The 14 actions, in the order of the request schema's enum."""

# ------------------------------------------------------------------------ fixture workflow

FIXTURE_WORKFLOW = "contract_demo"
"""Type of the fixture workflow: three phases numbered from 0, tasks with real steps."""

_FIXTURE_PHASES: tuple[dict[str, Any], ...] = (
    {
        "title": "Analyse the target",
        "purpose": "Understand the module before changing it.",
        "evidence": {
            "functions_found": {"type": "integer", "minimum": 1},
            "summary": {"type": "string", "minLength": 10},
        },
        "example": {"functions_found": 4, "summary": "Four pure functions, no I/O."},
        "tasks": ("map-structure", "list-dependencies"),
    },
    {
        "title": "Write the tests",
        "purpose": "Cover every public function.",
        "evidence": {
            "test_file": {"type": "string", "pattern": "^tests/.+\\.py$"},
            "tests_written": {"type": "integer", "minimum": 1},
        },
        "example": {"test_file": "tests/test_calculator.py", "tests_written": 12},
        "tasks": ("write-tests",),
    },
    {
        "title": "Run and report",
        "purpose": "Prove the suite passes.",
        "evidence": {
            "tests_passed": {"type": "integer", "minimum": 1},
            "tests_failed": {"type": "integer", "const": 0},
        },
        "example": {"tests_passed": 12, "tests_failed": 0},
        "tasks": ("run-suite",),
    },
)

_TASK_TEMPLATE = """# Task {number}: {title}

**Estimated duration:** 10 minutes

{title} for the target file, as the phase page describes.

## Execution steps

### Step 1: Read the target file
Command: `sed -n '1,200p' {{target_file}}`
Expected output: The module's source.

Note what each function does.

### Step 2: Write down the findings
Command: none
Expected output: A short list in your notes.

## Artifacts to produce

- `notes`: What this task found.
"""


def install_example_spec(project_root: str | os.PathLike[str]) -> str:
    """Copy the example spec into ``<project>/.praxis-os/specs/`` and return its folder.

    A dynamic workflow (spec_execution_v1) starts on a spec folder: this is one.
    """
    relative = f".praxis-os/specs/{EXAMPLE_SPEC.name}"
    folder = Path(project_root) / relative
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tasks.md").write_bytes((EXAMPLE_SPEC / "tasks.md").read_bytes())
    return relative


def install_fixture_workflow(project_root: str | os.PathLike[str]) -> str:
    """Write the fixture workflow into ``<project>/.praxis-os/workflows`` and return its type."""
    folder = Path(project_root) / ".praxis-os" / "workflows" / FIXTURE_WORKFLOW
    phases = []
    for number, spec in enumerate(_FIXTURE_PHASES):
        phase_dir = folder / "phases" / str(number)
        phase_dir.mkdir(parents=True, exist_ok=True)
        (phase_dir / "phase.md").write_text(
            f"# Phase {number}: {spec['title']}\n\n{spec['purpose']}\n", encoding="utf-8"
        )
        tasks = []
        for index, name in enumerate(spec["tasks"], start=1):
            file = f"task-{index}-{name}.md"
            title = name.replace("-", " ").capitalize()
            (phase_dir / file).write_text(
                _TASK_TEMPLATE.format(number=index, title=title), encoding="utf-8"
            )
            tasks.append({"number": index, "name": name, "file": file})
        phases.append(
            {
                "number": number,
                "title": spec["title"],
                "purpose": spec["purpose"],
                "estimated_duration": "15 minutes",
                "deliverables": [f"phase {number} evidence"],
                "tasks": tasks,
                "checkpoint": {
                    "required_evidence": sorted(spec["evidence"]),
                    "evidence_schema": {
                        "type": "object",
                        "properties": spec["evidence"],
                        "required": sorted(spec["evidence"]),
                    },
                    "validation": "Every required field present and shaped as the schema says.",
                    "evidence_example": spec["example"],
                },
            }
        )
    metadata = {
        "workflow_type": FIXTURE_WORKFLOW,
        "version": "1.0.0",
        "name": "Contract demo",
        "description": "A three-phase workflow used by the contract, smoke and perf gates.",
        "category": "testing",
        "estimated_duration": "45 minutes",
        "primary_outputs": ["tests"],
        "tags": ["fixture"],
        "start_phase": 0,
        "phases": phases,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return FIXTURE_WORKFLOW


# ------------------------------------------------------------------------------- calling


@dataclass
class Call:
    """One pos_workflow call: what was sent, what came back, how long it took."""

    arguments: dict[str, Any]
    payload: dict[str, Any]
    ms: float
    is_error: bool | None = None
    structured: bool = False
    text: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The response's status field (``?`` when there is none)."""
        return str(self.payload.get("status", "?"))


async def call(client: Any, arguments: dict[str, Any]) -> Call:
    """Call pos_workflow with ``arguments`` and return the parsed response.

    The payload is the structured content when the server sends it, else the JSON of
    the first text block; a response that is neither is reported in ``problems``
    (never raised), so a gate can tabulate it.
    """
    started = time.perf_counter()
    result = await client.call_tool(TOOL_NAME, arguments)
    ms = (time.perf_counter() - started) * 1000
    text = "".join(getattr(block, "text", "") for block in result.content or [])
    problems: list[str] = []
    payload: Any = result.structured_content
    structured = isinstance(payload, dict)
    if not structured:
        try:
            payload = json.loads(text)
        except ValueError:
            payload = {}
            problems.append(f"response is not JSON: {text[:200]!r}")
    if not isinstance(payload, dict):
        problems.append(f"response is not a JSON object: {type(payload).__name__}")
        payload = {}
    return Call(arguments, payload, ms, result.is_error, structured, text, problems)


def stdio_params(project_root: str | os.PathLike[str], *extra: str) -> Any:
    """Return the StdioServerParameters that start the real server on ``project_root``."""
    from mcp import StdioServerParameters  # noqa: PLC0415 - keep import-time light for the test

    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "pos_tool", "serve", "--project-root", str(project_root), *extra],
        env={"PYTHONUNBUFFERED": "1"},
    )


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print rows as a plain aligned table."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    for row in (headers, ["-" * w for w in widths], *body):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# ------------------------------------------------------------------------------- scenario


@dataclass
class Step:
    """One scripted call and what it must answer.

    ``expect`` is ``success`` or an error_type; ``case`` labels the row in tables and
    picks the example written for the action (the first success and first error win).
    """

    action: str
    case: str
    arguments: dict[str, Any]
    expect: str
    result: Call | None = None

    @property
    def ok(self) -> bool:
        """Whether the response has the expected status (and error_type)."""
        if self.result is None or self.result.problems:
            return False
        payload = self.result.payload
        if self.expect == "success":
            return payload.get("status") == "success"
        return payload.get("status") == "error" and payload.get("error_type") == self.expect


MISSING_SESSION = "contract_demo_missing_py_20250101_000000_000000"
TARGET_FILE = "src/calculator.py"


async def scenario(
    client: Any, workflow_type: str = FIXTURE_WORKFLOW, target_file: str = TARGET_FILE
) -> AsyncIterator[Step]:
    """Drive every action once or more, yielding each step with its result.

    Successes follow one session from start to completion through a failed
    checkpoint, retry, pause/resume and rollback; each action also gets a
    representative error. The session is deleted at the end.
    """

    async def run(action: str, case: str, expect: str, **arguments: Any) -> Step:
        step = Step(action, case, {"action": action, **arguments}, expect)
        step.result = await call(client, step.arguments)
        return step

    yield await run("list_workflows", "all workflows", "success")
    yield await run("list_workflows", "category of the wrong type", "ValidationError", category=7)
    started = await run(
        "start",
        "new session",
        "success",
        workflow_type=workflow_type,
        target_file=target_file,
        options={"language": "python"},
    )
    yield started
    assert started.result is not None
    sid = started.result.payload.get("session_id", MISSING_SESSION)
    content = started.result.payload.get("phase_content", {})
    first = content.get("phase", 0)
    total = started.result.payload.get("total_phases", 1)
    examples = {first: _example(content)}

    yield await run(
        "start",
        "unknown workflow_type",
        "NotFoundError",
        workflow_type="no_such_workflow",
        target_file=target_file,
    )
    yield await run(
        "start",
        "target_file outside the project",
        "ValidationError",
        workflow_type=workflow_type,
        target_file="../outside.py",
    )
    yield await run("get_phase", "current phase", "success", session_id=sid)
    yield await run("get_phase", "unknown session", "NotFoundError", session_id=MISSING_SESSION)
    yield await run("get_phase", "session_id left out", "ValidationError")
    yield await run("get_task", "first task", "success", session_id=sid, phase=first, task_number=1)
    yield await run(
        "get_task",
        "task that does not exist",
        "NotFoundError",
        session_id=sid,
        phase=first,
        task_number=99,
    )
    yield await run(
        "get_task",
        "phase not reached yet",
        "StateError",
        session_id=sid,
        phase=first + 1,
        task_number=1,
    )
    yield await run(
        "complete_phase",
        "failing checkpoint",
        "ValidationError",
        session_id=sid,
        phase=first,
        evidence={},
    )
    yield await run("get_errors", "after a failed checkpoint", "success", session_id=sid)
    yield await run("get_errors", "unknown session", "NotFoundError", session_id=MISSING_SESSION)
    yield await run(
        "retry_phase",
        "after a failed checkpoint",
        "success",
        session_id=sid,
        phase=first,
        reset_evidence=True,
    )
    yield await run(
        "retry_phase", "phase that is not current", "StateError", session_id=sid, phase=first + 1
    )
    passed = await run(
        "complete_phase",
        "evidence_example",
        "success",
        session_id=sid,
        phase=first,
        evidence=examples[first],
    )
    yield passed
    assert passed.result is not None
    examples[first + 1] = _example(passed.result.payload.get("phase_content", {}))
    async for step in _second_phase_on(run, sid, first, total, examples):
        yield step


async def _second_phase_on(
    run: Callable[..., Awaitable[Step]],
    sid: str,
    first: int,
    total: int,
    examples: dict[int, dict[str, Any]],
) -> AsyncIterator[Step]:
    """The rest of the walk: state, pause/resume, rollback, completion, management."""
    yield await run("get_state", "active session", "success", session_id=sid)
    yield await run("get_state", "malformed session_id", "ValidationError", session_id="Not/An/Id")
    yield await run("pause", "active session", "success", session_id=sid, checkpoint_note="lunch")
    yield await run("pause", "already paused", "StateError", session_id=sid)
    yield await run(
        "complete_phase",
        "session paused",
        "StateError",
        session_id=sid,
        phase=first + 1,
        evidence=examples[first + 1],
    )
    yield await run("resume", "paused session", "success", session_id=sid)
    yield await run("resume", "session not paused", "StateError", session_id=sid)
    yield await run(
        "rollback", "to a phase that does not exist", "NotFoundError", session_id=sid, to_phase=99
    )
    yield await run("rollback", "to the first phase", "success", session_id=sid, to_phase=first)
    for number in range(first, first + total):
        if number not in examples:
            break
        done = await run(
            "complete_phase",
            f"phase {number}",
            "success",
            session_id=sid,
            phase=number,
            evidence=examples[number],
        )
        yield done
        assert done.result is not None
        if "phase_content" in done.result.payload:
            examples[number + 1] = _example(done.result.payload["phase_content"])
    yield await run("list_sessions", "all sessions", "success")
    yield await run(
        "list_sessions", "status that does not exist", "ValidationError", status="archived"
    )
    yield await run("get_session", "completed session", "success", session_id=sid)
    yield await run("get_session", "unknown session", "NotFoundError", session_id=MISSING_SESSION)
    yield await run(
        "delete_session", "existing session", "success", session_id=sid, reason="smoke done"
    )
    yield await run("delete_session", "missing session (not an error)", "success", session_id=sid)
    yield await run(
        "delete_session", "malformed session_id", "ValidationError", session_id="../../etc"
    )
    yield await run("no_such_action", "unknown action", "ValidationError")


def _example(phase_content: dict[str, Any]) -> dict[str, Any]:
    example = phase_content.get("checkpoint", {}).get("evidence_example", {})
    return copy.deepcopy(example) if isinstance(example, dict) else {}


# ---------------------------------------------------------------------- deterministic ids

_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_SESSION_TAIL = re.compile(r"_\d{8}_\d{6}_[0-9a-f]{6}\b")
_DURATIONS = {"duration_seconds", "paused_duration_seconds", "paused_seconds_total"}


def deterministic(value: Any) -> Any:
    """Return ``value`` with timestamps, session-id suffixes and durations made constant."""
    if isinstance(value, dict):
        return {
            k: (
                1.5
                if k in _DURATIONS and isinstance(v, int | float) and not isinstance(v, bool)
                else "err_0123456789ab"
                if k == "error_id" and isinstance(v, str)
                else deterministic(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [deterministic(v) for v in value]
    if isinstance(value, str):
        value = _STAMP.sub("2025-01-01T12:00:00.000000+00:00", value)
        return _SESSION_TAIL.sub("_20250101_120000_a1b2c3", value)
    return value
