"""The ``git_changed`` check: does a file differ from its version at a revision?

Git runs read-only and cannot be made to run anything else: the project's
repository is untrusted (a cloned project brings its own ``.git/config``), so

- only plumbing that reads objects runs (``rev-parse``, ``hash-object --stdin``):
  nothing refreshes the index (which could start ``core.fsmonitor``), nothing reads
  the working tree through git (which would run clean filters), nothing writes;
- every call passes ``-c core.hooksPath=/dev/null -c core.fsmonitor=false``,
  ``--no-optional-locks`` and ``--no-pager``, with a clean environment (no global
  or system config, no terminal prompt) and a time limit;
- the file's bytes are read by the engine itself (bounded) and hashed by
  ``git hash-object --no-filters --stdin``, so both sides use the repository's
  object format (SHA-1 or SHA-256);
- revisions are validated before use (never an option, never a range).

A file absent at the revision counts as changed. Line-ending or filter
conversions are not applied: a file git would normalise may read as changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - argv lists only, never a shell; see run_git
from dataclasses import dataclass
from pathlib import Path

from ._verify_spec import valid_git_ref

__all__ = ["GIT_TIMEOUT_SECONDS", "GitVerdict", "git_changed"]

GIT_TIMEOUT_SECONDS = 15.0
"""Each git call is killed after this long."""

_SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.untrackedCache=false",
)


@dataclass(frozen=True)
class GitVerdict:
    """What git said about one file.

    Attributes:
        changed: The file differs from the revision (None when git could not tell).
        commit: The revision resolved to a commit id ('' when it did not resolve).
        message: What was seen, for the check's record and failure message.
    """

    changed: bool | None
    commit: str
    message: str


class _GitFailed(Exception):
    pass


def _environment() -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    }
    return env


def _run(git: str, root: Path, args: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    """Run ``git <args>`` in ``root``; return (exit code, stdout stripped)."""
    try:
        # A fixed argv (a validated revision at most), no shell, read-only plumbing.
        done = subprocess.run(  # noqa: S603 # nosec B603
            [git, "--no-pager", "--no-optional-locks", *_SAFE_CONFIG, *args],
            cwd=root,
            env=_environment(),
            input=stdin,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _GitFailed(f"git did not answer within {GIT_TIMEOUT_SECONDS:g} s") from None
    except OSError as exc:
        raise _GitFailed(f"git could not start ({exc.strerror or type(exc).__name__})") from None
    if done.returncode not in (0, 1):
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = first[0][:200] if first else f"exit code {done.returncode}"
        raise _GitFailed(f"git refused: {why}")
    return done.returncode, done.stdout.decode("utf-8", "replace").strip()


def git_changed(root: Path, rel_path: str, ref: str, data: bytes) -> GitVerdict:
    """Tell whether ``data`` (the file at ``rel_path`` now) differs from ``ref``'s version.

    Args:
        root: The project root (git's working directory; the repository may enclose it).
        rel_path: The file, relative to ``root``, already checked by the path guard.
        ref: The revision to compare with.
        data: The file's bytes as the engine read them.
    """
    if not valid_git_ref(ref):
        return GitVerdict(None, "", f"{ref!r:.80} is not a revision name git accepts")
    git = shutil.which("git", path=_environment()["PATH"])
    if git is None:
        return GitVerdict(None, "", "git is not installed on the server")
    try:
        code, prefix = _run(git, root, ["rev-parse", "--show-prefix"])
        if code != 0:
            return GitVerdict(None, "", "the project is not inside a git repository")
        code, commit = _run(git, root, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        if code != 0 or not commit:
            return GitVerdict(None, "", f"revision {ref!r} does not exist in the repository")
        code, before = _run(
            git, root, ["rev-parse", "--verify", "--quiet", f"{commit}:{prefix}{rel_path}"]
        )
        if code != 0 or not before:
            return GitVerdict(True, commit, f"absent at {ref} ({commit[:12]}): a new file")
        _, now = _run(git, root, ["hash-object", "--no-filters", "--stdin"], stdin=data)
    except _GitFailed as exc:
        return GitVerdict(None, "", str(exc))
    if now == before:
        return GitVerdict(False, commit, f"unchanged since {ref} ({commit[:12]})")
    return GitVerdict(True, commit, f"changed since {ref} ({commit[:12]})")
