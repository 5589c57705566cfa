"""The migration-step hook of ``apply``: work that moves data to the new surface.

``apply`` replaces the registry, then runs every registered
:class:`MigrationStep` in order; ``rollback`` runs their ``undo`` in reverse
order after restoring the registry. One step is registered when pos_cutover is
imported: ``legacy-sessions`` (see ``pos_cutover._legacy``), which converts the
legacy session files (``.praxis-os/.cache/state/<uuid>.json``, through
pos_engine's ``convert_legacy_session_file``) into sessions of the store.

The contract a step must keep:

- **idempotent**: a run that recovers from a kill runs the steps again;
- **additive**: never delete or change a file the backup's state manifest
  records, nor a session its store inventory records (those are the proof that
  nothing was lost); write new files and sessions instead, through the store API
  (``ctx.store``: the project's servers use the same store);
- **reversible**: ``undo`` removes what ``apply`` added (or is None when the
  additions are harmless to the old surface);
- **quiet on success, loud on failure**: raise
  :class:`~pos_cutover.exceptions.CutoverError` with a remediation to stop the
  cutover (``run`` then rolls back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._backup import Backup
from ._plan import CutoverPlan
from ._store import StoreSetting

__all__ = [
    "MigrationContext",
    "MigrationOutcome",
    "MigrationStep",
    "register_migration_step",
    "registered_migration_steps",
    "run_migration_steps",
    "undo_migration_steps",
    "unregister_migration_step",
]


@dataclass(frozen=True)
class MigrationContext:
    """What a migration step works on.

    Attributes:
        project: The project root.
        backup: The verified backup of this cutover (its state manifest lists the originals).
        plan: The cutover plan.
        spec_map: Spec folders of legacy dynamic sessions to replace (``--spec-map``).
        store: The session store the project's servers use (the backup's); open it
            with ``store.opened(project)``.
    """

    project: Path
    backup: Backup
    plan: CutoverPlan
    spec_map: dict[str, str] = field(default_factory=dict)
    store: StoreSetting = field(default_factory=StoreSetting)


@dataclass
class MigrationOutcome:
    """What a step did.

    Attributes:
        name: The step.
        message: One sentence for the progress output and the report.
        changed: Files written or removed, relative to the project.
        sessions: Sessions created or removed in the session store.
    """

    name: str
    message: str
    changed: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as a JSON-able dict."""
        return asdict(self)


@dataclass(frozen=True)
class MigrationStep:
    """One unit of migration work run by ``apply`` after the registry is replaced.

    Attributes:
        name: Unique name (shown in progress output and the report).
        apply: Does the work; see the module docstring for the contract.
        undo: Reverts it during a rollback (None: nothing to revert).
        description: One line for humans.
    """

    name: str
    apply: Callable[[MigrationContext], MigrationOutcome]
    undo: Callable[[MigrationContext], MigrationOutcome] | None = None
    description: str = ""


_STEPS: dict[str, MigrationStep] = {}


def register_migration_step(step: MigrationStep) -> None:
    """Add ``step`` to every apply (after the steps registered before it); replaces a same-named step."""
    _STEPS[step.name] = step


def unregister_migration_step(name: str) -> bool:
    """Remove a registered step; return whether it was registered."""
    return _STEPS.pop(name, None) is not None


def registered_migration_steps() -> list[MigrationStep]:
    """Return the registered steps in the order they run."""
    # Imported here: the built-in steps' modules import this one.
    from ._checks import load_builtins  # noqa: PLC0415

    load_builtins()
    return list(_STEPS.values())


def run_migration_steps(ctx: MigrationContext) -> list[MigrationOutcome]:
    """Run every registered step in order; return their outcomes (a raising step stops the rest)."""
    return [step.apply(ctx) for step in registered_migration_steps()]


def undo_migration_steps(ctx: MigrationContext) -> list[MigrationOutcome]:
    """Undo every registered step that can be undone, in reverse order."""
    return [
        step.undo(ctx) for step in reversed(registered_migration_steps()) if step.undo is not None
    ]
