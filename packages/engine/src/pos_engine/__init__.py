"""pos_engine: phase-gated workflows with durable sessions and evidence gates.

The engine knows nothing of MCP. Build one with :meth:`WorkflowEngine.for_project`;
its ``state_manager`` handles session management over the same store. A dynamic
workflow (``spec_execution_v1``) derives its phases from a spec's tasks.md
(:func:`parse_spec_tasks`) and freezes them in the session (:class:`SpecPlan`).
"""

from importlib.metadata import PackageNotFoundError, version

from ._audit import TrailProblem, TrailReport, json_digest, verify_trail
from ._bounded import (
    BoundedInputError,
    parse_json_bounded,
    parse_yaml_bounded,
    read_bounded_bytes,
    read_bounded_text,
)
from ._definitions import (
    Checkpoint,
    DefinitionProblem,
    DynamicConfig,
    PhaseDefinition,
    TaskDefinition,
    UnevaluatedValidator,
    WorkflowDefinition,
    WorkflowRegistry,
    definition_schema,
    load_definition,
)
from ._definitions import Source as DefinitionSource
from ._durable import atomic_write, fsync_dir
from ._engine import MAX_OPTIONS_BYTES, WorkflowEngine
from ._evidence_schema import CappedErrors, capped_errors
from ._examples import place_example_files, write_example_files
from ._file_store import FileSessionStore
from ._gates import GateResult, evaluate_evidence
from ._gates_config import COMMANDS_ENV, GATES_FILE, GateSettings, load_gate_settings
from ._legacy_definitions import is_legacy_metadata, legacy_findings
from ._legacy_sessions import (
    LegacySessionReport,
    convert_legacy_session,
    convert_legacy_session_file,
    find_legacy_session_files,
    legacy_session_dir,
    read_legacy_session,
)
from ._lifecycle import next_actions
from ._models import (
    SESSION_STATUSES,
    ApprovalRecord,
    AuditEntry,
    ErrorRecord,
    PhaseAttempt,
    PlanPhase,
    PlanRevision,
    PlanTask,
    Session,
    SessionStatus,
    SessionSummary,
    SpecPlan,
)
from ._nonblocking import WouldBlock, nonblocking
from ._paging import SessionPage, page_request
from ._params import DEFAULT_PAGE_SIZE, MAX_CURSOR_CHARS, MAX_NOTE_CHARS, MAX_PAGE_SIZE
from ._process import freeze_objects_at_exit
from ._schema_problems import SchemaProblems, schema_problems
from ._snapshot import RestoreReport, SessionSnapshot, record_digest, sessions_checksum
from ._spec_tasks import ParsedSpec, parse_spec_tasks
from ._state import StateManager
from ._store import SchemaMigration, SessionStore, Updater
from ._store_url import STORE_ENTRY_POINT_GROUP, open_store, redact_url
from ._transfer import CopyConflict, CopyReport, copy_sessions
from ._verify import VerificationReport, verify_evidence
from ._verify_spec import ApprovalSpec, CommandSpec, ContentRule, FieldChecks
from .exceptions import (
    ConflictError,
    CorruptSessionError,
    DefinitionError,
    InternalError,
    LimitError,
    NotFoundError,
    PosError,
    StateError,
    StoreConfigError,
    StoreUnavailableError,
    ValidationError,
)

try:
    __version__ = version("pos-engine")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "COMMANDS_ENV",
    "DEFAULT_PAGE_SIZE",
    "GATES_FILE",
    "MAX_CURSOR_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_OPTIONS_BYTES",
    "MAX_PAGE_SIZE",
    "SESSION_STATUSES",
    "STORE_ENTRY_POINT_GROUP",
    "ApprovalRecord",
    "ApprovalSpec",
    "AuditEntry",
    "BoundedInputError",
    "CappedErrors",
    "Checkpoint",
    "CommandSpec",
    "ConflictError",
    "ContentRule",
    "CopyConflict",
    "CopyReport",
    "CorruptSessionError",
    "DefinitionError",
    "DefinitionProblem",
    "DefinitionSource",
    "DynamicConfig",
    "ErrorRecord",
    "FieldChecks",
    "FileSessionStore",
    "GateResult",
    "GateSettings",
    "InternalError",
    "LegacySessionReport",
    "LimitError",
    "NotFoundError",
    "ParsedSpec",
    "PhaseAttempt",
    "PhaseDefinition",
    "PlanPhase",
    "PlanRevision",
    "PlanTask",
    "PosError",
    "RestoreReport",
    "SchemaMigration",
    "SchemaProblems",
    "Session",
    "SessionPage",
    "SessionSnapshot",
    "SessionStatus",
    "SessionStore",
    "SessionSummary",
    "SpecPlan",
    "StateError",
    "StateManager",
    "StoreConfigError",
    "StoreUnavailableError",
    "TaskDefinition",
    "TrailProblem",
    "TrailReport",
    "UnevaluatedValidator",
    "Updater",
    "ValidationError",
    "VerificationReport",
    "WorkflowDefinition",
    "WorkflowEngine",
    "WorkflowRegistry",
    "WouldBlock",
    "__version__",
    "atomic_write",
    "capped_errors",
    "convert_legacy_session",
    "convert_legacy_session_file",
    "copy_sessions",
    "definition_schema",
    "evaluate_evidence",
    "find_legacy_session_files",
    "freeze_objects_at_exit",
    "fsync_dir",
    "is_legacy_metadata",
    "json_digest",
    "legacy_findings",
    "legacy_session_dir",
    "load_definition",
    "load_gate_settings",
    "next_actions",
    "nonblocking",
    "open_store",
    "page_request",
    "parse_json_bounded",
    "parse_spec_tasks",
    "parse_yaml_bounded",
    "place_example_files",
    "read_bounded_bytes",
    "read_bounded_text",
    "read_legacy_session",
    "record_digest",
    "redact_url",
    "schema_problems",
    "sessions_checksum",
    "verify_evidence",
    "verify_trail",
    "write_example_files",
]
