"""What the command line shows before it imports a server: defaults, names, the version.

``pos-workflow --help`` and ``--version`` read only this module (and the standard
library), so they never pay for importing the MCP SDK, Starlette or uvicorn; the
modules that serve re-export these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_RANGE",
    "METRICS_ENV",
    "RANGES",
    "TOKEN_ENV",
    "TOKEN_FILE_ENV",
    "HttpLimits",
    "package_version",
]

TOKEN_ENV = "POS_WORKFLOW_AUTH_TOKEN"  # noqa: S105 - a variable's name, not a secret
"""Environment variable holding one bearer token."""

TOKEN_FILE_ENV = "POS_WORKFLOW_AUTH_TOKEN_FILE"  # noqa: S105 - a variable's name
"""Environment variable naming a token file (as ``--auth-token-file``)."""

METRICS_ENV = "POS_WORKFLOW_METRICS"
"""``off`` in the environment starts a server that records no metrics (probes, tests).

The cutover's verification servers set it: their calls are checks, not production
traffic, and a rollback must leave the project's files as they were.
"""


@dataclass(frozen=True)
class HttpLimits:
    """Limits of the HTTP transport (see :mod:`pos_tool._http`)."""

    max_sessions: int = 1000
    max_sessions_per_client: int = 32
    session_idle_timeout: float = 600.0
    header_timeout: float = 10.0
    request_timeout: float = 120.0
    max_connections_per_client: int = 64


DEFAULT_LIMITS = HttpLimits()

RANGES: dict[str, int] = {
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
"""The time ranges the dashboard offers, by the name used in ``?range=``."""

DEFAULT_RANGE = "24h"


def package_version(dist: str) -> str:
    """Return the installed version of ``dist`` (``0.0.0`` when running from a bare source tree)."""
    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover - only without installed metadata
        return "0.0.0"
