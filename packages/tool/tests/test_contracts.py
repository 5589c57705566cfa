"""The pos_workflow contracts in specs/ hold for the real server.

The checks live in scripts/contracts.py (the ``contracts`` gate); these tests run the
same checks under pytest, one test per schema, per example and per live concern, so a
failure names what drifted. Nothing here is timed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


def _load(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts/ is not a package; its modules import each other)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


contracts = _load("contracts")
client = _load("_client")


def _failures(checks: list[Any]) -> list[str]:
    return [f"{c.check} | {c.subject} | {c.detail}" for c in checks if not c.ok]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], list[Any]]:
    """Run the live contract checks once on a scratch project: (checks, steps)."""
    result: tuple[list[Any], list[Any]] = await contracts.run_live(
        tmp_path_factory.mktemp("project")
    )
    return result


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", sorted(client.load_schemas()), ids=lambda p: p.relative_to(client.SPECS_DIR).as_posix()
)
def test_every_schema_in_specs_is_valid_and_its_refs_resolve(path: Path) -> None:
    check = contracts.check_schema_file(path)
    assert check.ok, check.detail


@pytest.mark.parametrize("action", client.ACTIONS)
def test_every_example_matches_its_schemas(action: str) -> None:
    assert _failures(contracts.check_example(action)) == []


def test_request_schema_requires_each_actions_parameters() -> None:
    validator = client.request_validator()
    assert validator.is_valid({"action": "list_workflows"})
    assert validator.is_valid(
        {"action": "get_task", "session_id": "s1", "phase": 0, "task_number": 1}
    )
    assert not validator.is_valid({"action": "get_task", "session_id": "s1", "phase": 0})
    assert not validator.is_valid({"action": "get_phase", "session_id": None})
    assert not validator.is_valid({"action": "get_phase", "session_id": "s1", "phase": 1})
    assert not validator.is_valid({"action": "explode"})
    assert not validator.is_valid({"action": "list_workflows", "colour": "red"})


@pytest.mark.slow
@pytest.mark.anyio
async def test_live_input_schema_matches_the_request_spec(
    live: tuple[list[Any], list[Any]],
) -> None:
    checks, _ = live
    assert _failures([c for c in checks if c.check.startswith("input")]) == []


@pytest.mark.slow
@pytest.mark.anyio
async def test_live_responses_match_their_schemas(live: tuple[list[Any], list[Any]]) -> None:
    checks, steps = live
    assert steps, _failures(checks)
    assert _failures([c for c in checks if c.check.startswith("live")]) == []


@pytest.mark.slow
@pytest.mark.anyio
async def test_tool_output_schema_does_not_drift_from_the_spec(
    live: tuple[list[Any], list[Any]],
) -> None:
    checks, _ = live
    assert _failures([c for c in checks if c.check.startswith("output")]) == []
