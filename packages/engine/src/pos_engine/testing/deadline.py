"""A guard for tests of work that must stay bounded (no quadratic regex, no endless read)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["deadline"]


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block if it runs longer than ``seconds`` (main thread only).

    Meant as a generous guard (work that should take milliseconds gets seconds): a
    regression to quadratic or unbounded work fails the test instead of hanging it.
    Python's regex engine checks for signals while it backtracks, so it is interrupted too.
    """

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
