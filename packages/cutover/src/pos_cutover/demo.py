"""A legacy demo project to rehearse a cutover on, shipped inside the package.

:func:`materialise` copies the template (``pos_cutover/demo_template``: a
registry naming ``workflow_legacy`` and ``server_info``, a ``CLAUDE.md`` and a
``.cursorrules`` that call the old tools, a small workflow whose markdown does
too, a workflow in the legacy praxis format ``feature_spec_legacy`` with gates,
a validator expression and a non-strict gate, and four legacy session files of
it under ``.praxis-os/.cache/state/``: at phase 0, at phase 1, failed at phase 2,
completed; and what a praxis-os installation leaves: ``.praxis-os/config.json``
enabling the praxis ``workflow`` group, ``.cursor/mcp.json``, ``.vscode/mcp.json``
and ``.mcp.json`` launching or reaching the praxis server, ``.claude/settings.json``
auto-approving one of its workflow tools) into a folder and then starts sessions
the way an old client would:
by driving the old tools (``start_workflow``, ``complete_phase``) through a real
stdio server. Template files and folders whose names start with a dot are stored
as ``dot-<name>`` so that no packaging tool drops them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import anyio
from pos_engine import find_legacy_session_files

from ._server import ServerLauncher, connect
from .exceptions import CutoverError

__all__ = ["DEMO_SESSIONS", "DemoError", "DemoProject", "materialise", "materialise_async"]

DEMO_SESSIONS: tuple[tuple[str, str, int], ...] = (
    ("test_generation_v3", "src/calculator.py", 1),
    ("spec_creation_v1", "docs/calculator-spec.md", 0),
    ("release_checklist", "CHANGELOG.md", 1),
)
"""Sessions started through the old tools: (workflow_type, target_file, phases completed)."""

_DOT = "dot-"


class DemoError(CutoverError):
    """The demo project cannot be materialised."""

    default_remediation = (
        "Install a pos-tool that has the workflow_legacy tool group (the old tools), "
        "and materialise into an empty or new folder."
    )


@dataclass
class DemoProject:
    """A materialised demo project.

    Attributes:
        root: The project folder.
        sessions: The sessions started through the old tools
            (``session_id``, ``workflow_type``, ``target_file``, ``phases_completed``).
        legacy_files: The legacy session files, relative to the project.
    """

    root: Path
    sessions: list[dict[str, Any]] = field(default_factory=list)
    legacy_files: list[str] = field(default_factory=list)


def _copy_tree(source: Traversable, dest: Path) -> None:
    for entry in source.iterdir():
        name = "." + entry.name[len(_DOT) :] if entry.name.startswith(_DOT) else entry.name
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            (dest / name).mkdir(exist_ok=True)
            _copy_tree(entry, dest / name)
        else:
            (dest / name).write_bytes(entry.read_bytes())


def copy_template(dest: Path) -> Path:
    """Copy the demo template into ``dest`` (created; must be empty if it exists) and return it.

    Raises:
        DemoError: ``dest`` exists and is not an empty folder.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DemoError(
            f"{dest.name!r} exists and is not an empty folder", remediation="Choose a new folder."
        )
    dest.mkdir(parents=True, exist_ok=True)
    _copy_tree(resources.files("pos_cutover").joinpath("demo_template"), dest)
    return dest


def _evidence(payload: dict[str, Any]) -> dict[str, Any] | None:
    example = payload.get("phase_content", {}).get("checkpoint", {}).get("evidence_example")
    return copy.deepcopy(example) if isinstance(example, dict) else None


async def materialise_async(
    dest: str | Path, launcher: ServerLauncher | None = None
) -> DemoProject:
    """Async form of :func:`materialise`."""
    root = copy_template(Path(dest).resolve())
    project = DemoProject(root)
    project.legacy_files = [p.relative_to(root).as_posix() for p in find_legacy_session_files(root)]
    async with connect(root, launcher) as server:
        tools = await server.tool_names()
        missing = [t for t in ("start_workflow", "complete_phase") if t not in tools]
        if missing:
            raise DemoError(
                f"the server lists no {missing} (tools: {tools}); the workflow_legacy group is missing"
            )
        for workflow_type, target, phases in DEMO_SESSIONS:
            call = await server.call(
                "start_workflow", {"workflow_type": workflow_type, "target_file": target}
            )
            if not call.ok or not isinstance(call.payload.get("session_id"), str):
                raise DemoError(
                    f"start_workflow({workflow_type!r}) failed: {call.payload.get('error') or call.text[:200]}"
                )
            record = {
                "session_id": call.payload["session_id"],
                "workflow_type": workflow_type,
                "target_file": target,
            }
            record["phases_completed"] = 0
            current = call.payload
            for _ in range(phases):
                evidence = _evidence(current)
                phase = current.get("phase_content", {}).get("phase")
                if evidence is None:
                    break
                done = await server.call(
                    "complete_phase",
                    {"session_id": record["session_id"], "phase": phase, "evidence": evidence},
                )
                if not done.ok:
                    raise DemoError(
                        f"complete_phase({workflow_type!r}, {phase}) failed: {done.payload.get('error')}"
                    )
                record["phases_completed"] += 1
                current = done.payload
            project.sessions.append(record)
    return project


def materialise(dest: str | Path, launcher: ServerLauncher | None = None) -> DemoProject:
    """Create the demo project in ``dest`` with sessions started through the old tools.

    Args:
        dest: A new or empty folder.
        launcher: How to start the server (default: ``python -m pos_tool serve``).

    Raises:
        DemoError: ``dest`` is not empty, or the server has no old tools.
        ServerStartError: The server does not start.
    """
    return anyio.run(materialise_async, dest, launcher)
