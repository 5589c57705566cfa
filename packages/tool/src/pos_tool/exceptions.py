"""Errors of the pos_tool package.

Tool calls never raise: their errors are responses. What can raise is start-up,
when the project's tool registry or monitoring file, or the server's settings, are unusable.
"""

from __future__ import annotations

from pos_engine import ValidationError

__all__ = ["MonitoringConfigError", "RegistryError", "ServerConfigError"]


class RegistryError(ValidationError):
    """The tool registry file is unreadable, not JSON, off-schema or names an unknown group.

    The message names the file relative to the project
    (``.praxis-os/config/tool-registry.json``) and the problem; it never carries
    an absolute path.

    Args:
        file: The registry file, relative to the project root.
        problem: What is wrong with the file.
        remediation: How to fix it (a default is provided).
    """

    default_remediation = (
        "Fix the file so it validates against specs/tool-registry.schema.json and names only known "
        "groups, or delete it to get the default groups (workflow, server_info)."
    )

    def __init__(self, file: str, problem: str, *, remediation: str | None = None) -> None:
        super().__init__(f"{file}: {problem}", remediation=remediation)
        self.file = file
        self.problem = problem


class MonitoringConfigError(ValidationError):
    """The monitoring file is unreadable, not JSON or off-schema.

    The message names the file relative to the project
    (``.praxis-os/config/monitoring.json``) and every problem found; it never
    carries an absolute path.

    Args:
        file: The monitoring file, relative to the project root.
        problem: What is wrong with the file.
    """

    default_remediation = (
        "Fix the file so it validates against specs/monitoring-config.schema.json, "
        "or delete it to get the defaults (docs: Monitoring)."
    )

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class ServerConfigError(ValidationError):
    """A server setting is unusable (an unreadable token file, a weak token, an unsafe bind).

    ``pos-workflow serve`` prints the message and the remediation and exits with code 2.
    """
