"""Fuzz gate: random input at every door of the product, for a fixed budget.

Usage::

    uv run python scripts/fuzz.py [--examples N] [--seed S]

Four targets, each fed ``N`` hypothesis-generated inputs:

- ``mcp-arguments``: random arguments per action (and random actions) through the MCP
  SDK's client against the real server in-process, over a project with live sessions;
- ``json-rpc``: random JSON-RPC lines (valid, malformed, deep, oversized ids) written to
  a real ``pos-workflow serve`` subprocess over stdio; every line with an id must be
  answered;
- ``definitions``: random metadata.json, gate-definition.yaml and task files loaded by
  the engine's registry;
- ``evidence``: random evidence against every bundled checkpoint and against random
  evidence schemas.

Counted per input: a *crash* is an exception escaping the product (or an InternalError
answer), a *hang* an input that took longer than its time limit (or got no answer), a
*leak* an answer showing an absolute server path or a traceback. Prints
``N inputs, C crashes, H hangs, L leaks`` and exits 1 unless all three are 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from mcp import Client
from pos_engine import WorkflowEngine, WorkflowRegistry
from pos_engine._definitions import bundled_workflows_dir
from pos_engine._evidence_schema import SchemaProblem, evidence_validator
from pos_engine._gates import evaluate_evidence
from pos_engine.testing.deadline import deadline
from pos_tool import build_server
from pos_tool._actions import ACTIONS, PARAMETERS
from pos_tool.testing import tool_response

SLOW_SECONDS = 10.0
"""An input taking longer than this is a hang (work that should take milliseconds)."""


@dataclass
class Tally:
    """What one target saw."""

    name: str
    inputs: int = 0
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    def run(self, what: Any, check: Callable[[], str | None]) -> None:
        """Run ``check`` on one input; it returns a leak description or None."""
        self.inputs += 1
        shown = repr(what)[:200]
        try:
            with deadline(SLOW_SECONDS):
                leak = check()
        except TimeoutError:
            self.hangs.append(shown)
        except Exception:  # the gate counts every escape: that is its job
            self.crashes.append(f"{shown}\n{traceback.format_exc(limit=4)}")
        else:
            if leak:
                self.leaks.append(f"{shown}: {leak}")

    def line(self) -> str:
        return (
            f"{self.name:14} {self.inputs:6} inputs, {len(self.crashes)} crashes, "
            f"{len(self.hangs)} hangs, {len(self.leaks)} leaks"
        )


# ------------------------------------------------------------------------ values

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
NASTY_TEXT = st.sampled_from(
    [
        "../../etc/passwd",
        "/etc/passwd",
        "$(touch PWNED).py",
        "a\x00b",
        "\ud800",
        "x" * 5000,
        "C:\\windows",
        "src/calculator.py",
        "",
        " ",
    ]
)


def _secrets(project: Path) -> list[str]:
    """Strings no answer may contain: absolute server paths and traceback markers."""
    paths = {
        str(project),
        str(project.resolve()),
        sys.prefix,
        tempfile.gettempdir(),
        str(Path.home()),
    }
    return [*sorted(p for p in paths if len(p) > 1), "Traceback (most recent call last)"]


def _leak(text: str, secrets: list[str]) -> str | None:
    found = [s for s in secrets if s in text]
    return f"answer contains {found[0]!r}" if found else None


# --------------------------------------------------------------- mcp arguments


def fuzz_mcp_arguments(examples: int, project: Path, base_seed: int = 0) -> Tally:
    tally = Tally("mcp-arguments")
    server = build_server(project, durable=False)
    engine = WorkflowEngine.for_project(project, durable=False)
    sessions = [
        engine.start_workflow(w, "src/calculator.py")["session_id"]
        for w in ("test_generation_v3", "spec_creation_v1")
    ]
    values: dict[str, st.SearchStrategy[Any]] = {
        "session_id": st.sampled_from(sessions) | NASTY_TEXT | JSON,
        "workflow_type": st.sampled_from(["test_generation_v3", "spec_creation_v1"]) | NASTY_TEXT,
        "target_file": NASTY_TEXT | st.text(max_size=30),
        "phase": st.integers(-2, 8) | JSON,
        "to_phase": st.integers(-2, 8) | JSON,
        "task_number": st.integers(-1, 9) | JSON,
        "evidence": JSON,
    }
    arguments = st.fixed_dictionaries(
        {"action": st.sampled_from(sorted(ACTIONS)) | NASTY_TEXT | JSON},
        optional={
            name: values.get(name, JSON)
            for name in [*PARAMETERS, "unknown_argument"]
            if name != "action"
        },
    )
    secrets = _secrets(project)
    with start_blocking_portal() as portal, ExitStack() as stack:
        client = stack.enter_context(portal.wrap_async_context_manager(Client(server)))

        @seed(base_seed + 1)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(arguments)
        def one(args: dict[str, Any]) -> None:
            def check() -> str | None:
                result = portal.call(client.call_tool, "pos_workflow", args)
                answer = tool_response(result)
                if answer.get("error_type") == "InternalError":
                    raise RuntimeError(f"InternalError answer: {answer.get('error')}")
                if answer["status"] not in ("success", "error"):
                    raise RuntimeError(f"bad status {answer['status']!r}")
                return _leak(json.dumps(answer, ensure_ascii=False), secrets)

            tally.run(args, check)

        one()
    return tally


# -------------------------------------------------------------------- json-rpc

REQUEST = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0", 2]),
        "id": st.integers(1, 10**6) | st.text(max_size=8),
    },
    optional={
        "method": st.sampled_from(["ping", "tools/list", "tools/call", "nope/nope"]) | JSON,
        "params": st.fixed_dictionaries(
            {"name": st.sampled_from(["pos_workflow", "get_server_info", "nope"])},
            optional={"arguments": JSON},
        )
        | JSON,
    },
)


def _line(value: dict[str, Any], mangle: int) -> bytes:
    text = json.dumps(value)
    if mangle == 1:
        text = text[: len(text) // 2]  # cut in the middle
    elif mangle == 2:
        text = text.replace('"id"', '"id"', 1)[:-1] + ',"deep":' + "[" * 700 + "]" * 700 + "}"
    elif mangle == 3:
        text = text[:-1] + ',"s":"\\udc00"}'
    return text.encode()


def fuzz_json_rpc(examples: int, project: Path, base_seed: int = 0) -> Tally:
    tally = Tally("json-rpc")
    process = subprocess.Popen(
        [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(project), "--no-fsync"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def exchange(line: bytes) -> dict[str, Any] | None:
        stdin.write(line + b"\n")
        stdin.flush()
        ready, _, _ = select.select([stdout], [], [], SLOW_SECONDS)
        return json.loads(stdout.readline()) if ready else None

    init = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "fuzz", "version": "1"},
    }
    exchange(
        json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}).encode()
    )
    stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    secrets = _secrets(project)
    try:

        @seed(base_seed + 2)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(REQUEST, st.integers(0, 3))
        def one(request: dict[str, Any], mangle: int) -> None:
            def check() -> str | None:
                line = _line(request, mangle)
                # Make sure every line asks for an answer: a ping with a fresh id follows it
                # when the line itself may not (notifications, responses).
                answer = exchange(line)
                if answer is None:
                    raise TimeoutError
                if "id" in answer and answer.get("id") not in (None, request.get("id")):
                    raise RuntimeError(f"answer to another request: {answer}")
                return _leak(json.dumps(answer, ensure_ascii=False), secrets)

            tally.run(request, check)

        one()
    finally:
        process.kill()
        process.wait(timeout=10)
    return tally


# ----------------------------------------------------------------- definitions

TASK_TEXT = st.text(max_size=300) | st.sampled_from(
    [
        "# Task 1: a" + " " * 3000 + "b\n",
        "# Task 1: Do\n\n**Estimated duration:** 1 min\n\nDo.\n\n## Execution steps\n\n"
        "### Step 1: Go\nCommand: `ls {target_file}`\nExpected output: files\n\n"
        "## Artifacts to produce\n\n- `x`: y\n",
    ]
)
GATE_TEXT = st.text(max_size=200) | st.sampled_from(
    [
        "evidence_schema:\n  done: {type: boolean, required: true}\n",
        "a: &a [1, 2]\nb: [*a, *a]\nevidence_schema: {}\n",
        "evidence_schema:\n  x: " + "[" * 300 + "]" * 300 + "\n",
    ]
)


def fuzz_definitions(examples: int, project: Path, base_seed: int = 0) -> Tally:
    tally = Tally("definitions")
    base = project / ".praxis-os" / "workflows"
    template = json.loads(
        (bundled_workflows_dir() / "test_generation_v3" / "metadata.json").read_text()
    )

    def mutate(meta: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
        node: Any = meta
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return meta

    paths = st.sampled_from(
        [
            ["phases", 0, "checkpoint", "evidence_schema"],
            ["phases", 0, "checkpoint", "evidence_example"],
            ["phases", 0, "tasks"],
            ["phases"],
            ["start_phase"],
            ["phases", 0, "checkpoint", "evidence_schema", "properties", "x"],
        ]
    )

    @seed(base_seed + 3)
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        paths, JSON | st.just({"$ref": "http://127.0.0.1:9/x"}), TASK_TEXT, GATE_TEXT, st.booleans()
    )
    def one(path: list[str | int], value: Any, task: str, gate: str, legacy: bool) -> None:
        shutil.rmtree(base, ignore_errors=True)
        folder = base / "fuzzed"
        shutil.copytree(bundled_workflows_dir() / "test_generation_v3", folder)
        meta = json.loads(json.dumps(template))
        meta["workflow_type"] = "fuzzed"
        meta.pop("aliases", None)
        with suppress(IndexError, KeyError, TypeError):
            mutate(meta, path, value)
        (folder / "metadata.json").write_text(json.dumps(meta))
        (next((folder / "phases" / "1").glob("task-1-*.md"))).write_text(task)
        if legacy:
            (folder / "phases" / "1" / "gate-definition.yaml").write_text(gate)

        def check() -> str | None:
            registry = WorkflowRegistry(project)
            listed = {w.workflow_type for w in registry.workflows()}
            if not {"test_generation_v3", "spec_creation_v1"} <= listed:
                raise RuntimeError("a fuzzed workflow cost the bundled ones")
            return None

        tally.run((path, value, task[:60], gate[:60]), check)

    one()
    return tally


# --------------------------------------------------------------------- evidence


def fuzz_evidence(examples: int, base_seed: int = 0) -> Tally:
    tally = Tally("evidence")
    registry = WorkflowRegistry(tempfile.mkdtemp(prefix="fuzz-evidence-"))
    checkpoints = [p.checkpoint for w in registry.workflows() for p in w.phases]
    schemas = st.recursive(
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["object", "array", "string", "integer", "number"]),
                "pattern": st.sampled_from(["^(a+)+$", "^[a-z]+$", "(x|x)*y", "\\d{3}"]),
                "uniqueItems": st.booleans(),
                "minLength": st.integers(0, 5),
                "required": st.lists(st.text(max_size=4), max_size=3),
            },
        ),
        lambda children: st.fixed_dictionaries(
            {"type": st.just("object")},
            optional={
                "properties": st.dictionaries(st.text(max_size=4), children, max_size=3),
                "items": children,
                "anyOf": st.lists(children, min_size=1, max_size=3),
            },
        ),
        max_leaves=10,
    )
    evidence = JSON | st.fixed_dictionaries(
        {"v": st.lists(JSON | st.just("a" * 40 + "!"), max_size=200)}
    )

    @seed(base_seed + 4)
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.integers(0, len(checkpoints) - 1), schemas, evidence)
    def one(index: int, schema: dict[str, Any], value: Any) -> None:
        def check() -> str | None:
            payload = value if isinstance(value, dict) else {"v": value}
            evaluate_evidence(checkpoints[index], payload)
            try:
                validator = evidence_validator(schema)
            except SchemaProblem:
                return None
            list(validator.iter_errors(payload))
            return None

        tally.run((index, schema, value), check)

    one()
    return tally


def main() -> int:
    # Invalid definitions are logged as warnings by design; thousands of them are noise here.
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="inputs per target (default 300)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="draw other inputs than the gate's (default 0: the inputs CI feeds, the same every run)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pos-fuzz-") as scratch:
        project = Path(scratch) / "project"
        (project / "src").mkdir(parents=True)
        (project / "src" / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
        tallies = [
            fuzz_mcp_arguments(args.examples, project, 10 * args.seed),
            fuzz_json_rpc(args.examples, project, 10 * args.seed),
            fuzz_definitions(args.examples, Path(scratch) / "definitions", 10 * args.seed),
            fuzz_evidence(args.examples, 10 * args.seed),
        ]
    for tally in tallies:
        print(tally.line())
        for kind in ("crashes", "hangs", "leaks"):
            for example in getattr(tally, kind)[:3]:
                print(f"  {kind[:-1] if kind != 'crashes' else 'crash'}: {example}")
    inputs = sum(t.inputs for t in tallies)
    crashes = sum(len(t.crashes) for t in tallies)
    hangs = sum(len(t.hangs) for t in tallies)
    leaks = sum(len(t.leaks) for t in tallies)
    print(
        f"fuzz: {inputs} inputs, {crashes} crashes, {hangs} hangs, {leaks} leaks "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0 if crashes == hangs == leaks == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
