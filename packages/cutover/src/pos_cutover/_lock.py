"""The cutover lock: one cutover (run, apply or rollback) per project at a time.

``.praxis-os/cutover.lock`` is locked with ``flock``; the kernel releases the
lock when the holder exits, however it exits, so a killed cutover never leaves
the project locked. The file also records who holds it, for the error message.

The holder removes the file when it releases the lock (a killed holder leaves
an unlocked file behind, which the next cutover simply takes), so a finished
cutover leaves nothing but its backup. Removing a lock file is safe only
because every locker checks, once it holds the lock, that the file it locked
is still the one under the name; a locker that lost that race starts over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from .exceptions import CutoverBusyError

__all__ = ["LOCK_FILE", "CutoverLock", "lock_holder"]

LOCK_FILE = ".praxis-os/cutover.lock"
"""The lock file, relative to the project root."""


_ATTEMPTS = 100


def _still_named(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class CutoverLock:
    """Hold the project's cutover lock for the duration of a ``with`` block.

    Args:
        project: The project root.
        command: What holds the lock (shown to a second cutover that is refused).

    Raises:
        CutoverBusyError: (on entry) another process holds the lock.
    """

    def __init__(self, project: Path, command: str) -> None:
        self.path = project / LOCK_FILE
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise CutoverBusyError(holder) from None
            if _still_named(fd, self.path):
                break
            # The previous holder removed the file between our open and our flock.
            os.close(fd)
        else:  # pragma: no cover - lost the race to a releasing holder 100 times in a row
            raise CutoverBusyError(None)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        record = {"pid": os.getpid(), "command": self.command, "since": since}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file, then release the lock (lockers re-check the name; see above)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            if _still_named(self._fd, self.path):
                with contextlib.suppress(OSError):
                    self.path.unlink()
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> CutoverLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(project: Path) -> dict[str, Any] | None:
    """Return who holds the project's cutover lock, or None when nobody does.

    Probing takes and drops the lock at once; it never waits. An unreadable
    holder record is reported as ``{}`` (held, holder unknown).
    """
    path = project / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
