"""Fault injection: make the server slow, failing or heavy on purpose, to test alerts.

Off unless asked for, with ``pos-workflow serve --inject-faults SPEC`` or the
``POS_WORKFLOW_FAULTS`` environment variable (the flag wins). ``SPEC`` is a
comma-separated list of:

- ``latency=SECONDS``: every tool call waits this long before it runs;
- ``errors=RATIO``: this share of calls (0-1, spread evenly: 0.25 is every fourth)
  is answered with an ``InternalError`` without running;
- ``memory_mb=MB``: the server holds this much extra resident memory.

For example ``latency=1.5,errors=0.1``. A server with faults logs a warning at start
and says so in ``get_server_info`` (``monitoring.faults``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from pos_engine import ValidationError

__all__ = ["FAULTS_ENV", "Faults", "parse_faults"]

FAULTS_ENV = "POS_WORKFLOW_FAULTS"
"""The environment variable holding a fault spec (``--inject-faults`` overrides it)."""

_MAX_LATENCY_SECONDS = 600.0
_MAX_MEMORY_MB = 16 * 1024
_PAGE = 4096


@dataclass
class Faults:
    """The faults a server injects (all off by default).

    Attributes:
        latency_seconds: Added before every call.
        error_ratio: Share of calls answered with an injected InternalError.
        memory_mb: Extra resident memory held while these faults are active.
    """

    latency_seconds: float = 0.0
    error_ratio: float = 0.0
    memory_mb: float = 0.0
    _debt: float = field(default=0.0, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _ballast: bytearray | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.latency_seconds or self.error_ratio or self.memory_mb)

    def describe(self) -> str | None:
        """The spec that recreates these faults (None when all are off)."""
        parts = []
        if self.latency_seconds:
            parts.append(f"latency={self.latency_seconds:g}")
        if self.error_ratio:
            parts.append(f"errors={self.error_ratio:g}")
        if self.memory_mb:
            parts.append(f"memory_mb={self.memory_mb:g}")
        return ",".join(parts) or None

    def should_fail(self) -> bool:
        """Whether this call gets an injected error: exactly ``error_ratio`` of calls, spread evenly."""
        if not self.error_ratio:
            return False
        with self._lock:
            self._debt += self.error_ratio
            if self._debt >= 1.0 - 1e-9:
                self._debt -= 1.0
                return True
        return False

    def hold_memory(self) -> None:
        """Allocate the ballast and touch every page, so it counts as resident memory."""
        if self.memory_mb and self._ballast is None:
            ballast = bytearray(int(self.memory_mb * 1024 * 1024))
            ballast[::_PAGE] = b"\x01" * len(range(0, len(ballast), _PAGE))
            self._ballast = ballast

    def release_memory(self) -> None:
        """Free the ballast."""
        self._ballast = None

    @staticmethod
    def injected_error(action: str | None) -> dict[str, Any]:
        """The answer of a call failed on purpose."""
        return {
            "status": "error",
            "action": action,
            "error": "injected fault: this call failed on purpose (fault injection is on)",
            "error_type": "InternalError",
            "remediation": (
                "Fault injection is for testing alerts: restart the server without "
                f"--inject-faults and without {FAULTS_ENV}."
            ),
        }


def _number(key: str, text: str, upper: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= upper:  # also refuses nan
        raise ValidationError(
            f"fault {key}={text!r} is not a number from 0 to {upper:g}",
            remediation="Write e.g. latency=1.5,errors=0.1,memory_mb=150.",
        )
    return value


def parse_faults(spec: str | None) -> Faults:
    """Parse a fault spec such as ``latency=1.5,errors=0.1,memory_mb=150``.

    Args:
        spec: The spec; None or blank means no faults.

    Raises:
        ValidationError: An unknown key or a value out of range; the message shows it.
    """
    faults = Faults()
    if spec is None or not spec.strip():
        return faults
    limits = {"latency": _MAX_LATENCY_SECONDS, "errors": 1.0, "memory_mb": _MAX_MEMORY_MB}
    for part in spec.split(","):
        key, _, value = part.strip().partition("=")
        if key not in limits or not value:
            raise ValidationError(
                f"fault {part.strip()!r} is not one of latency=SECONDS, errors=RATIO, memory_mb=MB",
                remediation="Write e.g. latency=1.5,errors=0.1,memory_mb=150.",
            )
        number = _number(key, value, limits[key])
        if key == "latency":
            faults.latency_seconds = number
        elif key == "errors":
            faults.error_ratio = number
        else:
            faults.memory_mb = number
    return faults


def faults_from_environment() -> Faults:
    """The faults named by ``POS_WORKFLOW_FAULTS`` (none when unset)."""
    return parse_faults(os.environ.get(FAULTS_ENV))
