"""pos_cutover: move an MCP server from the old workflow tools to pos_workflow, prove it, undo it.

``pos-cutover run`` (or :meth:`Cutover.run`) chains check -> backup -> apply ->
verify -> report and rolls back by itself when verification fails. Each step is
also available on its own. Extra pre-checks plug in with :func:`register_check`,
extra migration work with :func:`register_migration_step`.

Importing the package registers the legacy support: the pre-checks
``legacy-definitions`` and ``legacy-sessions`` and the migration step
``legacy-sessions`` (:data:`LEGACY_SESSIONS_STEP`), which moves the legacy
session files of ``.praxis-os/.cache/state/`` into the session store and whose
undo removes exactly what it created; and the praxis-os support: the pre-checks
``praxis-server``, ``clients``, ``agent-instructions`` and ``surface``. On a
praxis-os project the cutover also rewrites ``.praxis-os/config.json`` and the
client configs that launch the praxis server (see :class:`ChangeOptions`), all
journaled and rolled back byte for byte.

The package imports its parts on first use of a public name (PEP 562): that first
use registers the built-ins above, and ``pos-cutover --help``, ``--version`` and
``guide`` never import the MCP SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exit import package_version as _package_version

if TYPE_CHECKING:
    from ._backup import (
        BACKUPS_DIR,
        LEGACY_COPY_DIR,
        LEGACY_STATE_DIR,
        PROJECT_FILES,
        STATE_DIRS,
        Backup,
        find_backup,
        list_backups,
        state_manifest,
        verify_backup,
    )
    from ._changes import DEFAULT_HTTP_URL, ChangeOptions, FileChange, default_client_command
    from ._checks import (
        CheckContext,
        CheckFn,
        CheckReport,
        CheckResult,
        CheckStatus,
        Finding,
        register_check,
        registered_checks,
        run_checks,
        unregister_check,
    )
    from ._inventory import INVENTORY_FILE, SNAPSHOT_FILE, InventoryCheck, SessionInventory
    from ._journal import (
        JOURNAL_FILE,
        KEPT_FILES_DIR,
        ApplyResult,
        Journal,
        Recovery,
        apply_changes,
        read_journal,
        recover,
        registry_sha256,
        restore_changes,
    )
    from ._launch import GUI_PATH, ClientCheck
    from ._legacy import (
        LEGACY_MIGRATION_FILE,
        LegacyMigration,
        LegacySessionFile,
        MigratedSessionCheck,
        read_legacy_migration,
        survey_legacy_sessions,
    )
    from ._legacy_step import LEGACY_SESSIONS_STEP, ROLLED_BACK_DIR
    from ._lock import LOCK_FILE, CutoverLock, lock_holder
    from ._mapping import (
        LEGACY_GROUP,
        LEGACY_TOOL_NAMES,
        LEGACY_TOOLS,
        migration_table_markdown,
        replacement_for,
    )
    from ._migrate import (
        MigrationContext,
        MigrationOutcome,
        MigrationStep,
        register_migration_step,
        registered_migration_steps,
        unregister_migration_step,
    )
    from ._plan import (
        DEFAULT_PLAN,
        CutoverPlan,
        default_plan,
        load_plan,
        parse_plan,
        plan_schema,
        thresholds,
    )
    from ._praxis_checks import project_survey
    from ._probe import PROBE_DIR, ActionResult, Latency, WorkflowRun, percentile
    from ._report import Report, build_report
    from ._result import CutoverResult, Event, ExitCode, Outcome, Progress
    from ._run import Cutover
    from ._scan import Mention, scan_project
    from ._server import LiveServer, ServerLauncher, ToolCall, connect
    from ._store import STORE_ENV, StoreSetting
    from ._survey import Survey, survey
    from ._verify import Verification, verify
    from .exceptions import (
        BackupError,
        CutoverBusyError,
        CutoverError,
        JournalError,
        PlanError,
        ServerStartError,
        StoreError,
    )

__version__ = _package_version()

__all__ = [
    "BACKUPS_DIR",
    "DEFAULT_HTTP_URL",
    "DEFAULT_PLAN",
    "GUI_PATH",
    "INVENTORY_FILE",
    "JOURNAL_FILE",
    "KEPT_FILES_DIR",
    "LEGACY_COPY_DIR",
    "LEGACY_GROUP",
    "LEGACY_MIGRATION_FILE",
    "LEGACY_SESSIONS_STEP",
    "LEGACY_STATE_DIR",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "LOCK_FILE",
    "PROBE_DIR",
    "PROJECT_FILES",
    "ROLLED_BACK_DIR",
    "SNAPSHOT_FILE",
    "STATE_DIRS",
    "STORE_ENV",
    "ActionResult",
    "ApplyResult",
    "Backup",
    "BackupError",
    "ChangeOptions",
    "CheckContext",
    "CheckFn",
    "CheckReport",
    "CheckResult",
    "CheckStatus",
    "ClientCheck",
    "Cutover",
    "CutoverBusyError",
    "CutoverError",
    "CutoverLock",
    "CutoverPlan",
    "CutoverResult",
    "Event",
    "ExitCode",
    "FileChange",
    "Finding",
    "InventoryCheck",
    "Journal",
    "JournalError",
    "Latency",
    "LegacyMigration",
    "LegacySessionFile",
    "LiveServer",
    "Mention",
    "MigratedSessionCheck",
    "MigrationContext",
    "MigrationOutcome",
    "MigrationStep",
    "Outcome",
    "PlanError",
    "Progress",
    "Recovery",
    "Report",
    "ServerLauncher",
    "ServerStartError",
    "SessionInventory",
    "StoreError",
    "StoreSetting",
    "Survey",
    "ToolCall",
    "Verification",
    "WorkflowRun",
    "__version__",
    "apply_changes",
    "build_report",
    "connect",
    "default_client_command",
    "default_plan",
    "find_backup",
    "list_backups",
    "load_plan",
    "lock_holder",
    "migration_table_markdown",
    "parse_plan",
    "percentile",
    "plan_schema",
    "project_survey",
    "read_journal",
    "read_legacy_migration",
    "recover",
    "register_check",
    "register_migration_step",
    "registered_checks",
    "registered_migration_steps",
    "registry_sha256",
    "replacement_for",
    "restore_changes",
    "run_checks",
    "scan_project",
    "state_manifest",
    "survey",
    "survey_legacy_sessions",
    "thresholds",
    "unregister_check",
    "unregister_migration_step",
    "verify",
    "verify_backup",
]


def __getattr__(name: str) -> Any:
    """Import the whole public API (registering the built-ins) on first use of a name."""
    if name == "__version__" or name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    api = importlib.import_module("._api", __name__)
    globals().update({public: getattr(api, public) for public in api.__all__})
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
