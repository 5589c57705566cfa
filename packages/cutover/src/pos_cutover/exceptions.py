"""Errors of the pos_cutover package: one root, each with a message and a remediation.

Checks never raise: they gather findings into a :class:`~pos_cutover.CheckReport`.
What raises is a step that cannot go on (a plan that does not validate, a lock
held by another cutover, a backup whose checksums disagree, a registry that
matches neither the backup nor the target).
"""

from __future__ import annotations

__all__ = [
    "BackupError",
    "CutoverBusyError",
    "CutoverError",
    "JournalError",
    "PlanError",
    "ServerStartError",
    "StoreError",
]


class CutoverError(Exception):
    """Root of every pos_cutover error.

    Args:
        message: What went wrong, naming the offending value.
        remediation: What the release engineer can do about it.
    """

    default_remediation = "Read the message, fix the cause and run the command again."

    def __init__(self, message: str, *, remediation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation or self.default_remediation

    def __str__(self) -> str:
        return self.message


class PlanError(CutoverError, ValueError):
    """A cutover plan does not validate against its schema or is inconsistent.

    Attributes:
        problems: Every problem found, not only the first.
    """

    default_remediation = "Fix the plan so it validates against specs/cutover-plan.schema.json."

    def __init__(self, source: str, problems: list[str], *, remediation: str | None = None) -> None:
        shown = "; ".join(problems)
        super().__init__(f"plan {source!r} is not usable: {shown}", remediation=remediation)
        self.source = source
        self.problems = problems


class CutoverBusyError(CutoverError):
    """Another cutover (run, apply or rollback) holds the project's cutover lock.

    Attributes:
        holder: What the lock file says about the holder (pid, command, since), if readable.
    """

    default_remediation = (
        "Wait for the other cutover to finish; if no pos-cutover process is running, "
        "the lock is released already and the command can simply be repeated."
    )

    def __init__(self, holder: dict[str, object] | None) -> None:
        who = (
            f"pid {holder.get('pid')!r} ({holder.get('command')!r}, since {holder.get('since')!r})"
            if holder
            else "another process"
        )
        super().__init__(f"another cutover is running on this project: {who}")
        self.holder = holder


class BackupError(CutoverError):
    """A backup cannot be written, found, or verified against its manifest.

    Attributes:
        problems: Every problem found (missing file, checksum mismatch, ...).
    """

    default_remediation = (
        "Take a new backup (pos-cutover backup) or name an intact one with --backup."
    )

    def __init__(
        self, message: str, problems: list[str] | None = None, *, remediation: str | None = None
    ) -> None:
        self.problems = problems or []
        detail = f": {'; '.join(self.problems)}" if self.problems else ""
        super().__init__(message + detail, remediation=remediation)


class JournalError(CutoverError):
    """The cutover journal and the registry disagree in a way no automatic step may settle.

    Raised when the registry matches neither the backup nor the target of an
    interrupted cutover (someone edited it), or the journal cannot be read.
    """

    default_remediation = (
        "Inspect .praxis-os/config/tool-registry.json by hand; then either restore the backup "
        "(pos-cutover rollback --backup ID) or delete .praxis-os/cutover-journal.json."
    )


class ServerStartError(CutoverError):
    """The MCP server subprocess did not start or did not answer the handshake.

    Attributes:
        stderr: The last lines the server wrote to stderr.
    """

    default_remediation = (
        "Run `python -m pos_tool serve --project-root PROJECT` by hand to see the error; "
        "usually the tool registry names a group this server does not know."
    )

    def __init__(self, message: str, stderr: str = "", *, remediation: str | None = None) -> None:
        self.stderr = stderr
        tail = f": {stderr.strip()}" if stderr.strip() else ""
        super().__init__(message + tail, remediation=remediation)


class StoreError(CutoverError):
    """The session store cannot be used: unreachable, its schema behind, or not the backup's.

    The message names the store without its password.
    """

    default_remediation = (
        "Check the store URL (--store or $POS_WORKFLOW_STORE) and that the store is reachable; "
        "a PostgreSQL store needs `pos-workflow store migrate --store URL` first."
    )
