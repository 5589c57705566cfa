"""Memory-only calls: answer from what is already in memory, or say it would block.

An MCP server answers read actions on its event loop when they need no file read
(the workflow index is fresh, the session is in the store's cache): a worker-thread
hop costs more than such an answer. Inside :func:`nonblocking`, every place that
would read a file, walk a folder or wait for a lock held during I/O raises
:class:`WouldBlock` instead, before changing anything; the caller then runs the same
call in a worker thread. A ``stat`` is allowed: on the local filesystems the file
store requires, it is answered from the kernel's inode cache.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

__all__ = ["WouldBlock", "acquire", "is_nonblocking", "nonblocking", "require_io"]

_NONBLOCKING: ContextVar[bool] = ContextVar("pos_engine_nonblocking", default=False)


class WouldBlock(Exception):
    """A call inside :func:`nonblocking` needs a file read or a lock held during I/O.

    Raised before anything was changed: run the same call again outside
    :func:`nonblocking` (in a worker thread).
    """


class nonblocking:  # lower case: it is used as a function, ``with nonblocking():``
    """Run the body memory-only: whatever would block raises :class:`WouldBlock`.

    A class rather than a ``@contextmanager`` generator: every read action on the
    event loop enters it, and the generator machinery cost as much as a ``stat``.
    """

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _NONBLOCKING.set(True)

    def __exit__(self, *exc_info: object) -> None:
        _NONBLOCKING.reset(self._token)


def is_nonblocking() -> bool:
    """Whether the current call runs inside :func:`nonblocking`."""
    return _NONBLOCKING.get()


def require_io() -> None:
    """Raise :class:`WouldBlock` inside :func:`nonblocking`; do nothing outside it."""
    if _NONBLOCKING.get():
        raise WouldBlock


def acquire(lock: threading.Lock) -> None:
    """Take ``lock``; inside :func:`nonblocking`, only if it is free at once."""
    if _NONBLOCKING.get():
        if not lock.acquire(blocking=False):
            raise WouldBlock
    else:
        lock.acquire()
