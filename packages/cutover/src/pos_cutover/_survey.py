"""Is the project still on the old surface, and what would the cutover change? One answer for all.

``check`` (its ``surface`` check), ``run`` (whether there is anything to do) and
``backup`` (which files it plans to rewrite) all read :func:`survey`, so they
cannot disagree. A project is on the old surface while any of these holds:

- its tool registry does not name the plan's target groups (it names
  ``workflow_legacy``, say);
- ``.praxis-os/config.json`` enables the praxis ``workflow`` group (explicitly,
  or by leaving ``mcp.enabled_tool_groups`` out);
- a client config launches or reaches the praxis server for its workflow tools
  (its rewrite is planned: no ``pos-workflow`` entry beside it, or old workflow
  tools still auto-approved);
- a legacy session file under ``.praxis-os/.cache/state/`` can be migrated and is
  not in the session store yet;
- with ``--rewrite-instructions``: an agent instruction names an old tool.

Legacy session files that cannot be migrated do not keep the cutover going (it
cannot move them); they make its verdict partial (see ``Cutover.run``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._changes import ChangeOptions, FileChange
from ._checks import registry_groups
from ._client_survey import ClientSurvey, survey_clients
from ._instructions import plan_instruction_changes
from ._jsonedit import JsonEditError
from ._legacy import LegacySessionFile, survey_legacy_sessions
from ._plan import CutoverPlan
from ._praxis import PraxisConfig, PraxisMode, config_change, read_praxis_config, tools_of
from ._store import StoreSetting
from .exceptions import StoreError

__all__ = ["Survey", "survey"]


@dataclass
class Survey:
    """What the project looks like to the cutover.

    Attributes:
        project: The project root.
        options: The options the changes are planned with.
        mode: keep (the praxis server stays for rag and browser) or remove.
        registry_groups: The groups the registry names (None: unusable file).
        registry_where: Where they come from, one phrase.
        registry_pending: Whether the registry is not yet the plan's target.
        praxis: The praxis server's config.json.
        config: The planned config.json edit (None: nothing to change).
        config_error: Why config.json cannot be edited, when it cannot.
        clients: The clients' praxis entries and their planned rewrites.
        instructions: The planned instruction rewrites (``--rewrite-instructions`` only).
        sessions: Every legacy session file and what its migration would do.
        store_error: Why the session store could not be read (then ``sessions`` does
            not know which are in the store already; the ``session-store`` check fails).
    """

    project: Path
    options: ChangeOptions
    mode: PraxisMode
    registry_groups: tuple[str, ...] | None
    registry_where: str
    registry_pending: bool
    praxis: PraxisConfig
    config: FileChange | None = None
    config_error: str = ""
    clients: ClientSurvey = field(default_factory=ClientSurvey)
    instructions: list[FileChange] = field(default_factory=list)
    sessions: list[LegacySessionFile] = field(default_factory=list)
    store_error: str = ""

    @property
    def changes(self) -> list[FileChange]:
        """Every project file the cutover would rewrite (the registry aside)."""
        return [*([self.config] if self.config else []), *self.clients.changes, *self.instructions]

    @property
    def to_migrate(self) -> list[LegacySessionFile]:
        """Legacy session files the migration would move into the store."""
        return [s for s in self.sessions if s.outcome == "migrate"]

    @property
    def unmigratable(self) -> list[LegacySessionFile]:
        """Legacy session files not in the store that cannot be migrated."""
        return [s for s in self.sessions if s.outcome == "not_migrated"]

    @property
    def praxis_found(self) -> bool:
        """Whether the project runs (or ran) the praxis server: its config or a client of it."""
        return self.praxis.exists or bool(self.clients.entries)

    @property
    def lost_tools(self) -> list[str]:
        """The tools agents lose: the praxis server's other groups, when it is removed by choice."""
        if self.mode != "remove" or not self.options.remove_praxis_server or not self.praxis_found:
            return []
        return tools_of(self.praxis.kept_groups)

    def praxis_record(self) -> dict[str, Any]:
        """What becomes of the praxis server, for the backup and the report."""
        return {
            "found": self.praxis_found,
            "mode": self.mode,
            "groups": list(self.praxis.groups),
            "kept": list(self.praxis.kept_groups),
            "lost_tools": self.lost_tools,
            "entries": [e.to_dict() for e in self.clients.entries],
            "user_entries": [e.to_dict() for e in self.clients.user_entries],
        }

    def pending(self) -> list[str]:
        """What is still on the old surface, one phrase each (empty: already cut over)."""
        reasons = []
        if self.registry_pending:
            reasons.append(f"the registry is not the target ({self.registry_where})")
        if self.config is not None or self.config_error:
            reasons.append(
                f"the praxis server serves its workflow group ({self.praxis.describe()})"
            )
        clients = sorted({c.path for c in self.clients.changes})
        if clients:
            reasons.append(f"{', '.join(clients)} still use(s) the praxis workflow tools")
        if self.to_migrate:
            reasons.append(f"{len(self.to_migrate)} legacy session(s) to migrate into the store")
        if self.instructions:
            reasons.append(f"{len(self.instructions)} instruction file(s) name old tools")
        return reasons


def _mode(options: ChangeOptions, praxis: PraxisConfig) -> PraxisMode:
    if options.remove_praxis_server:
        return "remove"
    # praxis refuses to start without a group: with workflow its only one, switch clients away.
    return "remove" if praxis.workflow_enabled and not praxis.kept_groups else "keep"


def survey(
    project: Path,
    plan: CutoverPlan,
    options: ChangeOptions | None = None,
    store: StoreSetting | None = None,
) -> Survey:
    """Look at the project: what is still on the old surface and what the cutover would change.

    ``store`` is the session store legacy sessions would be migrated into (default: the
    project's file store); it is read, never changed.

    A session store that cannot be read is recorded in ``store_error``.
    """
    options = options or ChangeOptions()
    groups, where = registry_groups(project)
    praxis = read_praxis_config(project)
    result = Survey(
        project,
        options,
        _mode(options, praxis),
        groups,
        where,
        groups is None or set(groups) != set(plan.target_groups),
        praxis,
    )
    result.clients = survey_clients(project, options, result.mode)
    if result.praxis_found:  # no config.json and no client of praxis: no praxis server to edit
        try:
            result.config = config_change(praxis)
        except JsonEditError as exc:
            result.config_error = exc.message
    if options.rewrite_instructions:
        result.instructions = plan_instruction_changes(project)
    try:
        result.sessions = survey_legacy_sessions(project, dict(options.spec_map), store)
    except StoreError as exc:
        result.store_error = exc.message
        result.sessions = survey_legacy_sessions(
            project, dict(options.spec_map), look_in_store=False
        )
    return result
