"""pos_cutover: move an MCP server from the old workflow tools to pos_workflow, prove it, undo it.

``pos-cutover run`` (or :meth:`Cutover.run`) chains check -> backup -> apply ->
verify -> report and rolls back by itself when verification fails. Each step is
also available on its own. Extra pre-checks plug in with :func:`register_check`,
extra migration work with :func:`register_migration_step`.

Importing the package registers the legacy support: the pre-checks
``legacy-definitions`` and ``legacy-sessions`` and the migration step
``legacy-sessions`` (:data:`LEGACY_SESSIONS_STEP`), which moves the legacy
session files of ``.praxis-os/.cache/state/`` into the session store and whose
undo removes exactly what it created.
"""

from ._backup import (
    BACKUPS_DIR,
    LEGACY_COPY_DIR,
    LEGACY_STATE_DIR,
    STATE_DIRS,
    Backup,
    find_backup,
    list_backups,
    state_manifest,
    verify_backup,
)
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
from ._journal import (
    JOURNAL_FILE,
    ApplyResult,
    Journal,
    Recovery,
    apply_registry,
    read_journal,
    recover,
    registry_sha256,
    restore_registry,
)
from ._legacy import (
    LEGACY_MIGRATION_FILE,
    LEGACY_SESSIONS_STEP,
    LegacyMigration,
    LegacySessionFile,
    MigratedSessionCheck,
    read_legacy_migration,
    survey_legacy_sessions,
)
from ._lock import LOCK_FILE, CutoverLock, lock_holder
from ._mapping import (
    LEGACY_GROUP,
    LEGACY_TOOL_NAMES,
    LEGACY_TOOLS,
    Replacement,
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
from ._probe import PROBE_DIR, ActionResult, Latency, WorkflowRun
from ._report import Report, build_report
from ._run import Cutover, CutoverResult, Event, ExitCode, Progress, package_version
from ._scan import Mention, scan_project
from ._server import LiveServer, ServerLauncher, ToolCall, connect
from ._verify import Verification, verify
from .exceptions import (
    BackupError,
    CutoverBusyError,
    CutoverError,
    JournalError,
    PlanError,
    ServerStartError,
)

__version__ = package_version()

__all__ = [
    "BACKUPS_DIR",
    "DEFAULT_PLAN",
    "JOURNAL_FILE",
    "LEGACY_COPY_DIR",
    "LEGACY_GROUP",
    "LEGACY_MIGRATION_FILE",
    "LEGACY_SESSIONS_STEP",
    "LEGACY_STATE_DIR",
    "LEGACY_TOOLS",
    "LEGACY_TOOL_NAMES",
    "LOCK_FILE",
    "PROBE_DIR",
    "STATE_DIRS",
    "ActionResult",
    "ApplyResult",
    "Backup",
    "BackupError",
    "CheckContext",
    "CheckFn",
    "CheckReport",
    "CheckResult",
    "CheckStatus",
    "Cutover",
    "CutoverBusyError",
    "CutoverError",
    "CutoverLock",
    "CutoverPlan",
    "CutoverResult",
    "Event",
    "ExitCode",
    "Finding",
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
    "PlanError",
    "Progress",
    "Recovery",
    "Replacement",
    "Report",
    "ServerLauncher",
    "ServerStartError",
    "ToolCall",
    "Verification",
    "WorkflowRun",
    "__version__",
    "apply_registry",
    "build_report",
    "connect",
    "default_plan",
    "find_backup",
    "list_backups",
    "load_plan",
    "lock_holder",
    "migration_table_markdown",
    "parse_plan",
    "plan_schema",
    "read_journal",
    "read_legacy_migration",
    "recover",
    "register_check",
    "register_migration_step",
    "registered_checks",
    "registered_migration_steps",
    "registry_sha256",
    "replacement_for",
    "restore_registry",
    "run_checks",
    "scan_project",
    "state_manifest",
    "survey_legacy_sessions",
    "thresholds",
    "unregister_check",
    "unregister_migration_step",
    "verify",
    "verify_backup",
]
