"""Every error the engine raises, under one root.

Each error carries a human message that names the offending value and a
``remediation`` sentence that says how to fix it. ``error_type`` is the stable
name clients see (the MCP tool copies it into its error responses).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ConflictError",
    "CorruptSessionError",
    "DefinitionError",
    "InternalError",
    "LimitError",
    "NotFoundError",
    "PosError",
    "StateError",
    "StoreConfigError",
    "StoreUnavailableError",
    "ValidationError",
]


class PosError(Exception):
    """Root of every pos_engine error.

    Args:
        message: What went wrong, naming the offending value.
        remediation: One sentence telling the caller how to fix it.
        details: Optional machine-readable facts (missing fields, allowed values, ...).
    """

    error_type: ClassVar[str] = "InternalError"
    default_remediation: ClassVar[str] = "Check the request and try again."

    def __init__(
        self,
        message: str,
        *,
        remediation: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation or self.default_remediation
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the fields of an error response."""
        payload: dict[str, Any] = {
            "error": self.message,
            "error_type": self.error_type,
            "remediation": self.remediation,
        }
        if self.details:
            payload["details"] = self.details
        return payload


class ValidationError(PosError, ValueError):
    """A parameter or evidence value is malformed or out of range."""

    error_type = "ValidationError"
    default_remediation = "Correct the named parameter and call again."


class LimitError(ValidationError):
    """A value exceeds a size or count limit (for example evidence over 10 MB)."""

    error_type = "LimitError"
    default_remediation = (
        "Send a smaller value; store large artifacts in files and pass their paths."
    )


class NotFoundError(PosError, LookupError):
    """A session, workflow, phase or task does not exist."""

    error_type = "NotFoundError"
    default_remediation = "List what exists (list_sessions or list_workflows) and use one of those."


class StateError(PosError):
    """The operation is not allowed in the session's current state."""

    error_type = "StateError"
    default_remediation = "Call get_state to see the session's status and the allowed next actions."


class ConflictError(PosError):
    """A concurrent or repeated change conflicts with the stored state."""

    error_type = "ConflictError"
    default_remediation = "Reload the session with get_state and retry the call."


class InternalError(PosError):
    """An unexpected failure inside the engine; never caused by the caller's input."""

    error_type = "InternalError"
    default_remediation = "Retry the call; if it keeps failing, report it with the server's log."


class CorruptSessionError(InternalError):
    """A stored session file cannot be read or parsed.

    Only that session is affected: listing and every other session keep working.
    """

    default_remediation = (
        "Restore the session file from a backup, or delete the session with "
        "delete_session and start a new one."
    )


class DefinitionError(ValidationError):
    """A workflow definition on disk is invalid (bad metadata, missing or malformed files)."""

    default_remediation = (
        "Fix the named file in the workflow folder; run validation against "
        "specs/workflow-definition.schema.json."
    )


class StoreConfigError(ValidationError):
    """A session store setting is unusable: a malformed URL, or a backend not installed."""

    default_remediation = (
        "Pass a store URL such as file:///path/to/project or "
        "postgresql://user@host:5432/dbname (with its backend package installed)."
    )


class StoreUnavailableError(InternalError):
    """The session store cannot serve now: unreachable, or its schema is not the one needed."""

    default_remediation = (
        "Check that the session store is reachable; if its schema is behind, run "
        "`pos-workflow store migrate --store URL`, then retry."
    )
