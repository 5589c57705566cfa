"""What probe sessions need besides the server: files for checked evidence, and approvals.

A bundled phase may check the files its evidence names (``x-verify``): its
``evidence_example`` names files of an imaginary project, which the user's project
does not have, and the probe must not write where they point. So the probe moves
every checked path of the example into a scratch folder of its own,
``.praxis-os/.cache/cutover-probe/<run id>/``, writes files there that pass the
declared checks (``pos_engine.place_example_files``), and removes the folder when
it is done, also after a failure. A run killed meanwhile leaves the folder behind:
:func:`remove_probe_files` sweeps it up (the next verification does, and so does
the sweep of leftover probe sessions at the start of a run and after a rollback,
whatever the session store).

A phase the project gates with a person's approval (``gates.json``) stops a probe
session at ``awaiting_approval``. The probe approves its own sessions through the
engine's approval API, the one ``pos-workflow approve`` calls, named
:data:`PROBE_APPROVER` in the session's audit trail.
"""

from __future__ import annotations

import contextlib
import copy
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from pos_engine import PosError, WorkflowEngine, place_example_files

from ._store import StoreSetting
from .exceptions import CutoverError

__all__ = [
    "PROBE_APPROVER",
    "SCRATCH_DIR",
    "Approver",
    "ProbeEvidenceError",
    "ProbeWork",
    "remove_probe_files",
    "store_approver",
]

SCRATCH_DIR = ".praxis-os/.cache/cutover-probe"
"""Where probe sessions' files go (one folder per run), relative to the project."""

PROBE_APPROVER = "pos-cutover verification (probe session)"
"""Who approves a probe session's gated phase, as the audit trail records it."""

Approver = Callable[[str, int], Awaitable[str | None]]
"""Approve phase ``phase`` of probe session ``session_id``; None, or why it failed."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_MADE = ".created"  # in SCRATCH_DIR: the topmost folder the probe created above it


class ProbeEvidenceError(Exception):
    """The probe cannot write files that pass a phase's checks (a git or regex check)."""


@dataclass
class ProbeWork:
    """The scratch folder and the approver of one run's probe sessions.

    Attributes:
        project: The project root the server runs on.
        run_id: The run (names the scratch folder).
        approve: Approves a gated phase of a probe session; None: report it instead.
    """

    project: Path
    run_id: str
    approve: Approver | None = None

    @property
    def folder(self) -> str:
        """The run's scratch folder, relative to the project."""
        return f"{SCRATCH_DIR}/{_UNSAFE.sub('_', self.run_id) or 'run'}"

    def evidence(self, response: dict[str, Any]) -> dict[str, Any]:
        """The phase's example evidence, its checked files written in the scratch folder.

        Raises:
            ProbeEvidenceError: a check no written file can pass; the message names it.
        """
        checkpoint = response.get("phase_content", {}).get("checkpoint", {})
        example = checkpoint.get("evidence_example")
        if not isinstance(example, dict):
            return {}
        if not checkpoint.get("server_checks"):
            return copy.deepcopy(example)
        try:
            _prepare(self.project, self.folder)
            return place_example_files(self.project, self.folder, checkpoint, example)
        except (ValueError, PosError) as exc:
            raise ProbeEvidenceError(
                f"the probe cannot write files that pass the phase's server checks ({exc})"
            ) from None
        except OSError as exc:
            raise ProbeEvidenceError(
                f"the probe cannot write its files under {self.folder} "
                f"({exc.strerror or type(exc).__name__})"
            ) from None

    def remove(self) -> None:
        """Remove the scratch folder (and the cache folder if that leaves it empty)."""
        remove_probe_files(self.project, self.folder)


def _made_marker(project: Path) -> Path:
    return project / SCRATCH_DIR / _MADE


def _prepare(project: Path, folder: str) -> None:
    """Create the run's folder, noting the topmost folder it created (for the sweep)."""
    first_missing: Path | None = None
    for parent in reversed((project / folder).parents):
        if parent.is_relative_to(project) and parent != project and not parent.exists():
            first_missing = parent
            break
    (project / folder).mkdir(parents=True, exist_ok=True)
    marker = _made_marker(project)
    if first_missing is not None and first_missing != project / SCRATCH_DIR:
        marker.write_text(first_missing.relative_to(project).as_posix(), encoding="utf-8")


def remove_probe_files(project: Path, folder: str | None = None) -> bool:
    """Remove a run's scratch ``folder`` (None: every run's); return whether it was there.

    Once no run's folder is left, the cutover-probe folder goes, and so do the
    folders above it that the probe created (``.praxis-os/.cache`` in a project
    that had none), when nothing else is in them.
    """
    scratch = project / SCRATCH_DIR
    marker = _made_marker(project)
    made = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
    target = project / folder if folder is not None else scratch
    found = target.is_dir() and not target.is_symlink()
    if found:
        shutil.rmtree(target)
    if scratch.is_dir() and not scratch.is_symlink():
        if any(entry.name != _MADE for entry in scratch.iterdir()):
            return found  # another run's folder: its own clean-up removes the rest
        shutil.rmtree(scratch)
    if made:
        top = project / made
        for parent in scratch.parents:
            if not parent.is_relative_to(top) or parent == project:
                break
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty: something else may have moved in
    return found


def store_approver(project: Path, store: StoreSetting) -> Approver:
    """An approver that decides through the engine on ``store``, as ``pos-workflow approve`` does."""

    def decide(session_id: str, phase: int) -> None:
        with store.opened(project) as opened:
            engine = WorkflowEngine.for_project(project, store=opened)
            engine.approve_phase(
                session_id,
                phase,
                by=PROBE_APPROVER,
                reason="approved by the cutover's verification: a probe session, not real work",
            )

    async def approve(session_id: str, phase: int) -> str | None:
        try:
            await anyio.to_thread.run_sync(decide, session_id, phase)
        except (PosError, CutoverError) as exc:
            return exc.message
        return None

    return approve
