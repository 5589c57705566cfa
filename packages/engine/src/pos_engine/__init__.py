"""pos_engine: phase-gated workflows with durable sessions and evidence gates.

The engine knows nothing of MCP. Build one with :meth:`WorkflowEngine.for_project`;
its ``state_manager`` handles session management over the same store.
"""

from importlib.metadata import PackageNotFoundError, version

from ._definitions import (
    Checkpoint,
    DefinitionProblem,
    PhaseDefinition,
    TaskDefinition,
    WorkflowDefinition,
    WorkflowRegistry,
)
from ._engine import WorkflowEngine
from ._file_store import FileSessionStore
from ._gates import GateResult, evaluate_evidence
from ._lifecycle import next_actions
from ._models import (
    SESSION_STATUSES,
    ErrorRecord,
    PhaseAttempt,
    Session,
    SessionStatus,
    SessionSummary,
)
from ._state import StateManager
from ._store import SessionStore, Updater
from .exceptions import (
    ConflictError,
    CorruptSessionError,
    DefinitionError,
    InternalError,
    LimitError,
    NotFoundError,
    PosError,
    StateError,
    ValidationError,
)

try:
    __version__ = version("pos-engine")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "SESSION_STATUSES",
    "Checkpoint",
    "ConflictError",
    "CorruptSessionError",
    "DefinitionError",
    "DefinitionProblem",
    "ErrorRecord",
    "FileSessionStore",
    "GateResult",
    "InternalError",
    "LimitError",
    "NotFoundError",
    "PhaseAttempt",
    "PhaseDefinition",
    "PosError",
    "Session",
    "SessionStatus",
    "SessionStore",
    "SessionSummary",
    "StateError",
    "StateManager",
    "TaskDefinition",
    "Updater",
    "ValidationError",
    "WorkflowDefinition",
    "WorkflowEngine",
    "WorkflowRegistry",
    "__version__",
    "evaluate_evidence",
    "next_actions",
]
