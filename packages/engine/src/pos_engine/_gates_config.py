"""A project's gate settings: ``.praxis-os/config/gates.json`` (``specs/gates-config.schema.json``).

The file says whether the server may run the commands workflow definitions declare
for ``x-verify`` checks (off by default) and which phases need a person's approval
on top of the definitions' own. It is read (bounded) at every checkpoint and cached
by its stat signature, so editing it applies to the next ``complete_phase``.
``POS_WORKFLOW_COMMAND_CHECKS=off`` in the server's environment turns command checks
off whatever the file says (for servers that open projects they do not trust).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ._bounded import BoundedInputError, parse_json_bounded, read_bounded_text
from ._definitions import WorkflowDefinition
from ._evidence_schema import capped_errors, evidence_validator
from ._verify_spec import ApprovalSpec
from .exceptions import ValidationError

__all__ = [
    "COMMANDS_ENV",
    "GATES_FILE",
    "GateSettings",
    "gates_schema",
    "load_gate_settings",
    "with_project_approvals",
]

logger = logging.getLogger(__name__)

GATES_FILE = ".praxis-os/config/gates.json"
"""Where a project keeps its gate settings, relative to the project root."""

COMMANDS_ENV = "POS_WORKFLOW_COMMAND_CHECKS"
"""Set to ``off`` in the server's environment to refuse every command check."""

_MAX_BYTES = 256 * 1024


def gates_schema() -> dict[str, Any]:
    """Return the gate settings' JSON Schema shipped inside the package."""
    text = resources.files("pos_engine").joinpath("schemas/gates-config.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


_VALIDATOR = evidence_validator(gates_schema())


@dataclass(frozen=True)
class GateSettings:
    """What a project allows and demands at its checkpoints.

    Attributes:
        commands_enabled: Declared commands may run.
        allowed_commands: When not None, only these ``workflow_type/command`` run.
        approvals: ``(workflow_type, phase) -> prompt`` of the phases the project gates.
        problem: Why the file could not be used. ``complete_phase`` then refuses to
            judge evidence (the file might have asked for approvals) until it is fixed.
        commands_off_by_env: The server's environment turned commands off.
    """

    commands_enabled: bool = False
    allowed_commands: frozenset[str] | None = None
    approvals: tuple[tuple[str, int, str], ...] = ()
    problem: str | None = None
    commands_off_by_env: bool = False

    def require_usable(self) -> None:
        """Raise ValidationError when the project's file is broken (gates fail closed).

        Raises:
            ValidationError: ``problem`` is set; the message names the file and the fault.
        """
        if self.problem is not None:
            raise ValidationError(
                f"the project's gate settings are unusable: {self.problem}",
                remediation=f"Ask the user to fix {GATES_FILE} (see "
                "specs/gates-config.schema.json) or remove it, then call again; no evidence "
                "is judged while it is broken, since it may ask for approvals.",
            )

    def command_refusal(self, workflow_type: str, command: str) -> str | None:
        """Why ``command`` of ``workflow_type`` may not run here (None: it may)."""
        if self.commands_off_by_env:
            return f"command checks are turned off on this server ({COMMANDS_ENV}=off)"
        if self.problem is not None:
            return f"command checks are off: {self.problem}"
        if not self.commands_enabled:
            return (
                f"command checks are off in this project; to run them, set "
                f'"commands": {{"enabled": true}} in {GATES_FILE}'
            )
        name = f"{workflow_type}/{command}"
        if self.allowed_commands is not None and name not in self.allowed_commands:
            return f"{name} is not in commands.allow of {GATES_FILE}"
        return None

    def approval_prompt(self, workflow_type: str, phase: int) -> str | None:
        """The prompt of the project's approval for this phase (None: the project adds none)."""
        for wtype, number, prompt in self.approvals:
            if wtype == workflow_type and number == phase:
                return prompt
        return None


_NO_FILE = GateSettings()
_NO_FILE_OFF = GateSettings(commands_off_by_env=True)
_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], GateSettings]] = {}
# Every phase read asks for the settings: joining the path once per project keeps that
# to one stat (pathlib's parsing cost as much as the stat itself).
_paths: dict[str, tuple[Path, str]] = {}


def _gates_path(project_root: str | os.PathLike[str]) -> tuple[Path, str]:
    key = os.fspath(project_root)
    found = _paths.get(key)
    if found is None:
        path = Path(key) / GATES_FILE
        found = _paths[key] = (path, os.fspath(path))
    return found


def load_gate_settings(project_root: str | os.PathLike[str]) -> GateSettings:
    """Return the project's gate settings; never raises (a bad file is reported in ``problem``)."""
    off = os.environ.get(COMMANDS_ENV, "").strip().lower() in ("off", "0", "false", "no")
    path, name = _gates_path(project_root)
    try:
        st = os.stat(name)
    except OSError:
        return _NO_FILE_OFF if off else _NO_FILE
    signature = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _cache.get(path)  # a dict read is atomic; the lock only orders the writers
    if cached is None or cached[0] != signature:
        cached = (signature, _read(path, project_root))
        with _cache_lock:
            _cache[path] = cached
    settings = cached[1]
    if off:
        return dataclasses.replace(settings, commands_enabled=False, commands_off_by_env=True)
    return settings


def _read(path: Path, project_root: str | os.PathLike[str]) -> GateSettings:
    try:
        data = parse_json_bounded(read_bounded_text(path, limit=_MAX_BYTES, inside=project_root))
    except (BoundedInputError, OSError) as exc:
        reason = str(exc) if isinstance(exc, BoundedInputError) else (exc.strerror or "unreadable")
        return _unusable(f"{GATES_FILE} cannot be read: it {reason}")
    found = capped_errors(_VALIDATOR, data, shown=1)
    if found.errors:
        first = found.errors[0]
        where = "/" + "/".join(str(p) for p in first.absolute_path)
        return _unusable(
            f"{GATES_FILE} does not match specs/gates-config.schema.json at {where}: "
            f"{first.message[:200]}"
        )
    commands = data.get("commands", {})
    allow = commands.get("allow")
    return GateSettings(
        commands_enabled=bool(commands.get("enabled", False)),
        allowed_commands=frozenset(allow) if allow is not None else None,
        approvals=tuple(
            (item["workflow_type"], item["phase"], item["prompt"])
            for item in data.get("approvals", [])
        ),
    )


def _unusable(problem: str) -> GateSettings:
    logger.warning("%s; checkpoints are refused until it is fixed", problem)
    return GateSettings(problem=problem)


def with_project_approvals(
    definition: WorkflowDefinition, settings: GateSettings
) -> WorkflowDefinition:
    """Return ``definition`` with the approvals the project's gates.json adds to its phases.

    A phase whose checkpoint already asks for approval keeps its own prompt. Without a
    project approval for this workflow the definition is returned as it is.
    """
    if not settings.approvals:
        return definition  # most projects: every phase read passes here
    wanted = {
        phase: prompt
        for wtype, phase, prompt in settings.approvals
        if wtype == definition.workflow_type
    }
    if not any(p.number in wanted and p.checkpoint.approval is None for p in definition.phases):
        return definition
    phases = tuple(
        dataclasses.replace(
            p,
            checkpoint=dataclasses.replace(
                p.checkpoint, approval=ApprovalSpec(wanted[p.number], source=GATES_FILE)
            ),
        )
        if p.number in wanted and p.checkpoint.approval is None
        else p
        for p in definition.phases
    )
    return dataclasses.replace(definition, phases=phases)
