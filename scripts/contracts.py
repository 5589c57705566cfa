"""Contract gate: the pos_workflow JSON Schemas, their examples and the live server agree.

Usage::

    uv run python scripts/contracts.py                  # run every check, print a table
    uv run python scripts/contracts.py --write-examples # regenerate specs/pos_workflow/examples/
    uv run python scripts/contracts.py --write-generated # rewrite the files made from the action table

Checks, in order:

0. the files generated from pos_tool's action table (the request schema, the docs' action
   and parameter tables) are up to date;
1. every ``specs/**/*.schema.json`` is a valid JSON Schema and every ``$ref`` in it resolves;
2. every ``specs/pos_workflow/examples/<action>.json`` matches the request and response schemas;
3. the real server, in-process on a scratch project with the fixture workflow:
   - its tools/list entry for pos_workflow has the request schema's parameter names,
     types (null aside) and enums, requires only ``action``, describes every parameter;
   - the scripted walk through all 14 actions (successes and representative errors),
     probes of each action's required and accepted parameters, and a walk of every
     listed workflow (every task, every checkpoint's evidence_example) answer with the
     expected status and error_type, match their response schemas, carry structured
     content with ``isError`` set exactly on errors, and never reveal an absolute path
     of this machine or a stack trace;
   - its declared output schema (if any) has the spec's status values and accepts every
     example and live response.

Exits 1 when any check fails. packages/tool/tests/test_contracts.py runs the same checks.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _client
from _client import (
    ACTIONS,
    REPO_ROOT,
    TOOL_NAME,
    WORKFLOW_SPECS,
    Step,
    call,
    deterministic,
    error_messages,
    install_example_spec,
    install_fixture_workflow,
    load_schemas,
    print_table,
    request_validator,
    response_problems,
    scenario,
)
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from pos_engine import write_example_files
from pos_tool import GENERATED_FILES, stale_generated_files
from referencing.exceptions import Unresolvable

EXAMPLES_DIR = WORKFLOW_SPECS / "examples"


@dataclass(frozen=True)
class Check:
    """One line of the contract report."""

    check: str
    subject: str
    ok: bool
    detail: str = ""


# ----------------------------------------------------------------------------- 1. schemas


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def check_schema_file(path: Path) -> Check:
    """Check that the schema at ``path`` is valid for its dialect and that its ``$ref``s resolve."""
    subject = path.relative_to(REPO_ROOT).as_posix()
    schema = load_schemas()[path]
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        return Check("schema valid", subject, False, exc.message[:200])
    if not isinstance(schema.get("$id"), str):
        return Check("schema valid", subject, False, "no $id")
    resolver = _client.registry().resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:
            return Check("schema valid", subject, False, f"$ref {ref!r} does not resolve: {exc}")
    return Check("schema valid", subject, True)


def check_schemas() -> list[Check]:
    """Check every schema under specs/."""
    return [check_schema_file(path) for path in load_schemas()]


# ---------------------------------------------------------------------------- 2. examples


def check_example(action: str) -> list[Check]:
    """Check ``examples/<action>.json``: its request and both responses match their schemas."""
    path = EXAMPLES_DIR / f"{action}.json"
    subject = path.relative_to(REPO_ROOT).as_posix()
    if not path.is_file():
        return [Check("example", subject, False, "missing; run contracts.py --write-examples")]
    example = json.loads(path.read_text(encoding="utf-8"))
    checks = []
    request = example.get("request")
    problems = error_messages(request_validator(), request)
    for key in ("request", "error_request"):
        sent = example.get(key)
        if not isinstance(sent, dict) or sent.get("action") != action:
            problems.append(f"{key} must be an object with action {action!r}")
    checks.append(Check("example request", subject, not problems, "; ".join(problems)))
    for key, status in (("response", "success"), ("error_response", "error")):
        payload = example.get(key)
        problems = response_problems(action, payload)
        if isinstance(payload, dict) and (payload.get("status"), payload.get("action")) != (
            status,
            action,
        ):
            problems.append(f"{key} must have status {status!r} and action {action!r}")
        checks.append(Check(f"example {key}", subject, not problems, "; ".join(problems)))
    return checks


def check_examples() -> list[Check]:
    """Check the examples of all 14 actions."""
    return [check for action in ACTIONS for check in check_example(action)]


# -------------------------------------------------------------------------------- 3. live


def _types(prop: dict[str, Any]) -> set[str]:
    """Return the JSON types a property schema admits, ignoring null (optional means nullable)."""
    found: set[str] = set()
    kind = prop.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(kind)
    for key in ("anyOf", "oneOf"):
        for branch in prop.get(key, ()):
            found |= _types(branch)
    if "enum" in prop and not found:  # an enum without "type": the types of its values
        found.update({"string" if isinstance(v, str) else "null" for v in prop["enum"]})
    return found - {"null"}


def _enum(prop: dict[str, Any]) -> list[Any] | None:
    for branch in (prop, *prop.get("anyOf", ()), *prop.get("oneOf", ())):
        if "enum" in branch:
            return [v for v in branch["enum"] if v is not None]
    return None


def compare_input_schema(live: dict[str, Any]) -> list[Check]:
    """Compare the live input schema of pos_workflow with specs/pos_workflow/request.schema.json."""
    spec = json.loads((WORKFLOW_SPECS / "request.schema.json").read_text(encoding="utf-8"))
    subject = "tools/list pos_workflow inputSchema"
    live_props: dict[str, Any] = live.get("properties", {})
    spec_props: dict[str, Any] = spec["properties"]
    checks = [
        Check(
            "input params",
            subject,
            set(live_props) == set(spec_props),
            _diff("live", set(live_props), "spec", set(spec_props)),
        )
    ]
    # The spec accepts null for "not given"; the live schema publishes the plain type,
    # because clients read ["integer", "null"] as "not a number" and send strings.
    mismatched = [
        f"{name}: live {sorted(_types(live_props[name]))} spec {sorted(_types(spec_props[name]))}"
        for name in sorted(set(live_props) & set(spec_props))
        if _types(live_props[name]) != _types(spec_props[name]) - {"null"}
    ]
    checks.append(Check("input types", subject, not mismatched, "; ".join(mismatched)))
    for name in ("action", "status"):
        want, got = _enum(spec_props[name]), _enum(live_props.get(name, {}))
        checks.append(
            Check(
                f"input enum {name}",
                subject,
                got == want,
                "" if got == want else f"live {got} spec {want}",
            )
        )
    live_required = sorted(live.get("required", []))
    checks.append(
        Check(
            "input required",
            subject,
            live_required == ["action"],
            ""
            if live_required == ["action"]
            else f"live requires {live_required}, spec ['action']",
        )
    )
    undescribed = sorted(n for n, p in live_props.items() if not p.get("description"))
    checks.append(
        Check(
            "input descriptions",
            subject,
            not undescribed,
            f"no description: {undescribed}" if undescribed else "",
        )
    )
    return checks


def _diff(a_name: str, a: set[str], b_name: str, b: set[str]) -> str:
    parts = []
    if a - b:
        parts.append(f"only {a_name}: {sorted(a - b)}")
    if b - a:
        parts.append(f"only {b_name}: {sorted(b - a)}")
    return "; ".join(parts)


def example_payloads() -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (label, response) for every stored example response."""
    for action in ACTIONS:
        path = EXAMPLES_DIR / f"{action}.json"
        if path.is_file():
            example = json.loads(path.read_text(encoding="utf-8"))
            for key in ("response", "error_response"):
                if isinstance(example.get(key), dict):
                    yield f"{action}.{key}", example[key]


def compare_output_schema(output_schema: dict[str, Any] | None, live: list[Step]) -> list[Check]:
    """Check that the tool's declared output schema accepts every example and live response.

    A server that declares no output schema cannot drift from the spec; one that does must
    not reject what the spec allows (MCP clients validate structured content against it).
    """
    subject = "tools/list pos_workflow outputSchema"
    if output_schema is None:
        return [Check("output schema", subject, True, "none declared")]
    try:
        validator_for(output_schema, default=Draft202012Validator).check_schema(output_schema)
    except SchemaError as exc:
        return [Check("output schema", subject, False, f"invalid: {exc.message[:200]}")]
    checks = []
    statuses = _enum(output_schema.get("properties", {}).get("status", {}))
    checks.append(
        Check(
            "output schema status",
            subject,
            statuses is not None and set(statuses) == {"success", "error"},
            f"status enum {statuses}, spec ['success', 'error']",
        )
    )
    required = set(output_schema.get("required", []))
    checks.append(
        Check(
            "output schema required",
            subject,
            required <= {"status", "action"} and "status" in required,
            f"requires {sorted(required)}; the spec requires status and action of every response",
        )
    )
    validator = validator_for(output_schema, default=Draft202012Validator)(output_schema)
    rejected = [
        f"{label}: {error_messages(validator, payload, 1)}"
        for label, payload in [
            *example_payloads(),
            *((f"live {s.action} ({s.case})", s.result.payload) for s in live if s.result),
        ]
        if not validator.is_valid(payload)
    ]
    checks.append(
        Check("output schema accepts spec", subject, not rejected, "; ".join(rejected[:3]))
    )
    return [c if not c.ok else dataclasses.replace(c, detail="") for c in checks]


_COUNTED = (("workflows", "count"), ("sessions", "count"), ("errors", "error_count"))


def consistency_problems(payload: dict[str, Any]) -> list[str]:
    """Return cross-field facts a JSON Schema cannot state: counts match their lists."""
    return [
        f"{count} is {payload[count]!r} but {listing} has {len(payload[listing])} items"
        for listing, count in _COUNTED
        if isinstance(payload.get(listing), list) and payload.get(count) != len(payload[listing])
    ]


def check_step(step: Step, forbidden: list[str]) -> Check:
    """Check one live call: expected status, schema conformance, structured content, no leaks."""
    result = step.result
    assert result is not None
    subject = f"{step.action}: {step.case}"
    problems = list(result.problems)
    if not step.ok:
        got = result.payload.get("error_type") or result.payload.get("status")
        problems.append(
            f"expected {step.expect}, got {got}: {result.payload.get('error', '')[:120]}"
        )
    problems += response_problems(step.action, result.payload)
    problems += consistency_problems(result.payload)
    if not result.structured:
        problems.append("no structured content")
    if result.is_error is not None and result.is_error != (result.payload.get("status") == "error"):
        problems.append(f"isError={result.is_error} but status={result.status!r}")
    text = json.dumps(result.payload) + result.text
    problems += [f"leaks {leak!r}" for leak in forbidden if leak in text]
    return Check(f"live {step.expect}", subject, not problems, "; ".join(problems))


async def walk_workflow(
    client: Any, workflow_type: str, target_file: str, project: Path
) -> list[Step]:
    """Walk ``workflow_type`` from start to completion: every task, every checkpoint's example.

    Every bundled workflow's phase and task content is then held to the contract, and
    each checkpoint's evidence_example is shown to pass, as phase_content promises (a
    dynamic workflow walks the phases of the example spec it is started on). The files an
    example names where the server verifies them are written first, as an agent would.
    """
    steps: list[Step] = []

    async def run(action: str, case: str, **arguments: Any) -> dict[str, Any]:
        step = Step(action, case, {"action": action, **arguments}, "success")
        step.result = await call(client, step.arguments)
        steps.append(step)
        return step.result.payload

    payload = await run("start", "start", workflow_type=workflow_type, target_file=target_file)
    sid = payload.get("session_id")
    while payload.get("status") == "success" and "phase_content" in payload:
        content = payload["phase_content"]
        phase = content.get("phase")
        for task in content.get("tasks", []):
            number = task.get("task_number")
            await run(
                "get_task",
                f"phase {phase} task {number}",
                session_id=sid,
                phase=phase,
                task_number=number,
            )
        checkpoint = content.get("checkpoint", {})
        write_example_files(project, checkpoint)
        payload = await run(
            "complete_phase",
            f"phase {phase} evidence_example",
            session_id=sid,
            phase=phase,
            evidence=checkpoint.get("evidence_example", {}),
        )
    if sid:
        await run("delete_session", "delete", session_id=sid)
    return steps


def check_walk(workflow_type: str, steps: list[Step], forbidden: list[str]) -> Check:
    """Summarise a workflow walk as one check."""
    failed = [f"{s.case}: {c.detail}" for s in steps if not (c := check_step(s, forbidden)).ok]
    completed = any(s.result and s.result.payload.get("workflow_completed") is True for s in steps)
    if not completed and not failed:
        failed.append("the workflow never completed")
    detail = "; ".join(failed[:2]) if failed else f"{len(steps)} calls"
    return Check("live workflow walk", workflow_type, not failed, detail)


async def parameter_probes(client: Any) -> list[Step]:
    """Call each action without its required parameters, and with one it does not take.

    The request schema (x-parameters-by-action) says what each action requires and
    accepts; the server must answer both kinds of mistake with a ValidationError, and
    accept each optional parameter (those the scenario sends no success with are added).
    """
    spec = json.loads((WORKFLOW_SPECS / "request.schema.json").read_text(encoding="utf-8"))
    by_action: dict[str, dict[str, list[str]]] = spec["x-parameters-by-action"]
    steps = []
    for action in ACTIONS:
        accepted = {"action", *by_action[action]["required"], *by_action[action]["optional"]}
        if by_action[action]["required"]:
            steps.append(
                Step(action, "required parameters left out", {"action": action}, "ValidationError")
            )
        stray = next(name for name in spec["properties"] if name not in accepted)
        value = {"string": "x", "integer": 1, "object": {}, "boolean": True}[
            next(t for t in spec["properties"][stray]["type"] if t != "null")
        ]
        arguments = {
            "action": action,
            **{n: _valid_value(n) for n in by_action[action]["required"]},
            stray: value,
        }
        steps.append(
            Step(action, f"{stray} is not a parameter of {action}", arguments, "ValidationError")
        )
    steps += [
        Step(
            "list_workflows",
            "argument that is no parameter at all",
            {"action": "list_workflows", "colour": "red"},
            "ValidationError",
        ),
        # Optional parameters the scenario does not already send with a success.
        Step(
            "list_workflows",
            "category",
            {"action": "list_workflows", "category": "testing"},
            "success",
        ),
        Step("list_sessions", "status", {"action": "list_sessions", "status": "active"}, "success"),
        Step(
            "delete_session",
            "reason",
            {"action": "delete_session", "session_id": _client.MISSING_SESSION, "reason": "probe"},
            "success",
        ),
    ]
    for step in steps:
        step.result = await call(client, step.arguments)
    return steps


def _valid_value(name: str) -> Any:
    values = {
        "session_id": _client.MISSING_SESSION,
        "workflow_type": _client.FIXTURE_WORKFLOW,
        "target_file": _client.TARGET_FILE,
        "phase": 0,
        "task_number": 1,
        "evidence": {},
        "to_phase": 0,
    }
    return values[name]


async def run_live(project: Path) -> tuple[list[Check], list[Step]]:
    """Start the real server in-process on ``project`` and run every live check."""
    import pos_tool  # noqa: PLC0415 - may not be importable while the tool is being written
    from mcp import Client  # noqa: PLC0415 - the schema and example checks do not need the SDK

    install_fixture_workflow(project)
    spec = install_example_spec(project)
    # Absolute paths of this machine a response must never reveal (DESIGN.md), and tracebacks.
    forbidden = sorted(
        {str(project), str(project.resolve()), str(REPO_ROOT), sys.prefix}
        | {"Traceback (most recent call last)"}
    )
    server = pos_tool.build_server(project, durable=False)
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        if TOOL_NAME not in tools:
            return [
                Check("tools/list", TOOL_NAME, False, f"not listed; tools: {sorted(tools)}")
            ], []
        tool = tools[TOOL_NAME]
        steps = [step async for step in scenario(client)]
        steps += await parameter_probes(client)
        listed = await call(client, {"action": "list_workflows"})
        workflows = sorted(listed.payload.get("workflows", []), key=lambda w: w["workflow_type"])
        walks = {
            w["workflow_type"]: await walk_workflow(
                client, w["workflow_type"], spec if "dynamic" in w else "src/app.py", project
            )
            for w in workflows
        }
    checks = compare_input_schema(tool.input_schema)
    checks += [check_step(step, forbidden) for step in steps]
    checks += [check_walk(wtype, walk, forbidden) for wtype, walk in walks.items()]
    covered = {s.action for s in steps if s.expect == "success" and s.ok}
    failed_errors = {s.action for s in steps if s.expect != "success" and s.ok}
    missing = [a for a in ACTIONS if a not in covered or a not in failed_errors]
    checks.append(
        Check(
            "live coverage",
            "14 actions x (success, error)",
            not missing,
            f"not covered: {missing}" if missing else "",
        )
    )
    walked = [step for walk in walks.values() for step in walk]
    checks += compare_output_schema(tool.output_schema, steps + walked)
    return checks, steps


def write_examples(steps: list[Step]) -> list[Path]:
    """Write ``examples/<action>.json`` from the first success and first error of each action."""
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for action in ACTIONS:
        success = next(
            (s for s in steps if s.action == action and s.expect == "success" and s.ok), None
        )
        failure = next(
            (s for s in steps if s.action == action and s.expect != "success" and s.ok), None
        )
        if success is None or failure is None or success.result is None or failure.result is None:
            continue
        example = deterministic(
            {
                "description": f"{action}: {success.case} (success) and {failure.case} (error), "
                "recorded from the real server; ids and times made deterministic.",
                "request": success.arguments,
                "response": success.result.payload,
                "error_request": failure.arguments,
                "error_response": failure.result.payload,
            }
        )
        path = EXAMPLES_DIR / f"{action}.json"
        path.write_text(json.dumps(example, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


async def run_all(write: bool = False) -> list[Check]:
    """Run every check (live ones on a fresh scratch project); optionally rewrite the examples."""
    checks = check_schemas()
    with tempfile.TemporaryDirectory(prefix="pos-contracts-") as tmp:
        try:
            live, steps = await run_live(Path(tmp))
        except (ImportError, AttributeError) as exc:
            live, steps = [Check("live server", "pos_tool", False, f"not available: {exc}")], []
    if write and steps:
        for path in write_examples(steps):
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    return check_generated() + checks + check_examples() + live


def check_generated() -> list[Check]:
    """One check per file generated from the action table: is it what the table renders?"""
    stale = set(stale_generated_files(REPO_ROOT))
    return [
        Check(
            "generated",
            relative,
            relative not in stale,
            "stale: run scripts/contracts.py --write-generated" if relative in stale else "",
        )
        for relative in GENERATED_FILES
    ]


def write_generated() -> None:
    """Rewrite every file generated from the action table."""
    for relative, render in GENERATED_FILES.items():
        path = REPO_ROOT / relative
        path.write_text(render(), encoding="utf-8")
        print(f"wrote {relative}")


def main(argv: list[str] | None = None) -> int:
    """Run the contract gate and print its table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write-examples",
        action="store_true",
        help="regenerate specs/pos_workflow/examples/ from the live server",
    )
    parser.add_argument(
        "--write-generated",
        action="store_true",
        help="rewrite the request schema and the docs' tables from pos_tool's action table",
    )
    args = parser.parse_args(argv)
    if args.write_generated:
        write_generated()
    checks = asyncio.run(run_all(write=args.write_examples))
    print_table(
        ("check", "subject", "result", "detail"),
        ((c.check, c.subject, "PASS" if c.ok else "FAIL", c.detail) for c in checks),
    )
    failed = sum(not c.ok for c in checks)
    print(f"\n{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
