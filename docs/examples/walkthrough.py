"""The quickstart walk-through as a script: every call goes through a real MCP client.

    uv run python docs/examples/walkthrough.py            # run it on a scratch project
    uv run python docs/examples/walkthrough.py --record   # re-record the *.response.json files

The calls are the files ``walkthrough/NN-<name>.request.json``, run in name order
against ``build_server(project)`` through the MCP SDK's in-process ``Client``; the
error examples of the action reference (``errors/``) run the same way on a project
of their own. The
recorded requests use a fixed session id; each run uses the id that ``start``
returned instead. ``--record`` writes each response next to its request, with
timestamps, session-id suffixes and durations made constant so that the files only
change when the product does. ``packages/tool/tests/test_docs_examples.py`` replays
the same calls and checks that every documented response field is still there.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from pos_tool import TOOL_NAME, build_server
from pos_tool.testing import tool_response

HERE = Path(__file__).resolve().parent
STEPS_DIR = HERE / "walkthrough"
SEQUENCES = (STEPS_DIR, HERE / "errors")
RECORDED_SESSION_ID = "test_generation_v3_calculator_py_20250101_120000_a1b2c3"

CALCULATOR = '''"""Arithmetic helpers: the module the walk-through generates tests for."""


def add(a: float, b: float) -> float:
    return a + b


def subtract(a: float, b: float) -> float:
    return a - b


def divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b
'''


def request_files(folder: Path = STEPS_DIR) -> list[Path]:
    """Return the request files of ``folder``, in the order they run."""
    return sorted(folder.glob("*.request.json"))


def response_file(request_path: Path) -> Path:
    """Return where the recorded response of ``request_path`` lives."""
    return request_path.with_name(request_path.name.replace(".request.", ".response."))


def prepare_project(project_root: Path) -> None:
    """Give the project the module the workflow works on."""
    target = project_root / "src" / "calculator.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(CALCULATOR, encoding="utf-8")


def _with_session(value: Any, session_id: str | None) -> Any:
    """Replace the recorded session id with the live one, wherever it appears."""
    if session_id is None:
        return value
    text = json.dumps(value).replace(RECORDED_SESSION_ID, session_id)
    return json.loads(text)


async def run_walkthrough(
    project_root: Path, folder: Path = STEPS_DIR
) -> list[tuple[Path, dict[str, Any]]]:
    """Run every request file of ``folder`` against a server for ``project_root``.

    Returns:
        Each request file with the live response it got.
    """
    prepare_project(project_root)
    server = build_server(project_root, durable=False)
    session_id: str | None = None
    results = []
    async with Client(server) as client:
        for path in request_files(folder):
            request = json.loads(path.read_text(encoding="utf-8"))
            response = tool_response(
                await client.call_tool(TOOL_NAME, _with_session(request, session_id))
            )
            if request["action"] == "start" and response["status"] == "success":
                session_id = response["session_id"]
            results.append((path, response))
    return results


_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_SESSION_TAIL = re.compile(r"_\d{8}_\d{6}_[0-9a-f]{6}\b")
_DURATIONS = {"duration_seconds", "paused_duration_seconds", "paused_seconds_total"}


def deterministic(value: Any) -> Any:
    """Return ``value`` with timestamps, session-id suffixes and durations made constant."""
    if isinstance(value, dict):
        return {
            key: 1.5 if key in _DURATIONS and isinstance(item, float) else deterministic(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [deterministic(item) for item in value]
    if isinstance(value, str):
        value = _STAMP.sub("2025-01-01T12:00:00.000000+00:00", value)
        return _SESSION_TAIL.sub("_20250101_120000_a1b2c3", value)
    return value


def record(results: list[tuple[Path, dict[str, Any]]]) -> None:
    """Write each response next to its request file."""
    for path, response in results:
        text = json.dumps(deterministic(response), indent=2, ensure_ascii=False) + "\n"
        response_file(path).write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="rewrite the response files")
    args = parser.parse_args()
    for folder in SEQUENCES:
        with tempfile.TemporaryDirectory(prefix="pos-walkthrough-") as scratch:
            results = anyio.run(run_walkthrough, Path(scratch), folder)
        for path, response in results:
            print(f"{folder.name}/{path.name:40} {response['status']}")
        if args.record:
            record(results)
            print(f"recorded {len(results)} responses in {folder.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
