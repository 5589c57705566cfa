"""Process-wide settings for the packages' command-line entry points."""

from __future__ import annotations

import atexit
import gc

_registered = False


def freeze_objects_at_exit() -> None:
    """Let the interpreter exit without walking every object it holds (idempotent).

    While Python finalises it collects garbage several times, and each collection walks
    every tracked object: with the MCP SDK, pydantic and the engine loaded that took
    0.3 to 0.5 s per exit on the 2-core development machine, which an IDE closing the
    server, a cutover that starts six servers and every command wait for. ``gc.freeze``
    at exit leaves those walks out and nothing else: the other ``atexit`` handlers (the
    logging flush among them) still run, the standard streams are still flushed, and
    whatever the product writes is closed before its ``main`` returns.
    """
    global _registered  # noqa: PLW0603 - one registration per process
    if not _registered:
        # atexit runs handlers last-registered first: this one, registered at startup,
        # runs after the handlers the commands register later.
        atexit.register(gc.freeze)
        _registered = True
