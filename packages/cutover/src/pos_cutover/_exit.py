"""Exit codes of ``pos-cutover`` and its version: what the command line needs before it runs.

Kept apart from :mod:`pos_cutover._result` so ``pos-cutover --help`` and ``--version``
import nothing that starts, or talks to, a server.
"""

from __future__ import annotations

from enum import IntEnum

from pos_tool import package_version as installed_version

__all__ = ["ExitCode", "package_version"]


class ExitCode(IntEnum):
    """Exit codes of ``pos-cutover`` (and :attr:`CutoverResult.exit_code`)."""

    OK = 0
    """Done, or nothing to do (already cut over)."""
    FAILED = 1
    """A pre-check, the backup or verification failed; nothing of the project was changed."""
    USAGE = 2
    """Bad arguments, an invalid plan, an unknown backup, or a folder that is not a project."""
    ROLLED_BACK = 3
    """Verification failed after apply; every file was restored byte-identical to the backup."""
    ROLLBACK_FAILED = 4
    """Rollback failed, or a file matches neither backup nor target: a human must look."""
    BUSY = 5
    """Another cutover (run, apply or rollback) holds the project's lock."""
    PARTIAL = 6
    """Cut over and verified, but not everything moved: legacy sessions were left behind (named
    in the report, with the reason). ``--accept-unmigrated`` accepts that (exit 0)."""


def package_version() -> str:
    """Return the installed version of pos-cutover."""
    return installed_version("pos-cutover")
