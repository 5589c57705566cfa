"""In-memory metrics of the tool edge: latency histograms, errors and checkpoints.

Recording is the only part of monitoring on the request path: :meth:`Recorder.observe`
updates one small record under a lock (about a microsecond). Everything else (SQLite,
alerts, the Prometheus exposition) works on :class:`Batch` objects drained from the
recorder by the monitor's background tick.

Latencies go into fixed histogram buckets (:data:`LATENCY_BUCKETS`, upper bounds in
seconds, as Prometheus histograms do); percentiles are estimated from the buckets by
:func:`bucket_quantile`, so p50/p95/p99 are exact to a bucket's width.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

__all__ = [
    "ERROR_TYPES",
    "LATENCY_BUCKETS",
    "Batch",
    "Clock",
    "Histogram",
    "Recorder",
    "SystemClock",
    "bucket_quantile",
]

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds, inclusive) of the latency buckets; a last bucket holds the rest.

1 s is a bound, so the default latency alert (p95 > 1 s) is decided exactly.
Changing the bounds changes the SQLite schema (one column per bucket).
"""

ERROR_TYPES: tuple[str, ...] = (
    "ValidationError",
    "NotFoundError",
    "StateError",
    "ConflictError",
    "LimitError",
    "InternalError",
)
"""The error_type values a call can answer; anything else is recorded as ``Other``."""

_KNOWN_ERRORS = frozenset(ERROR_TYPES)


class Clock(Protocol):
    """Where monitoring reads the time; tests pass a fake one instead of sleeping."""

    def time(self) -> float:
        """Wall-clock time in seconds since the epoch (rollup buckets, alert windows)."""

    def monotonic(self) -> float:
        """A monotonic reading in seconds (call durations)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (injected latency)."""


class SystemClock:
    """The real clock: ``time.time``, ``time.perf_counter`` and ``anyio.sleep``."""

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    def monotonic(self) -> float:
        """``time.perf_counter()``."""
        return time.perf_counter()

    async def sleep(self, seconds: float) -> None:
        """Sleep without blocking the event loop."""
        await anyio.sleep(seconds)


@dataclass(slots=True)
class Histogram:
    """Calls of one tool/action: count, errors, total seconds and per-bucket counts.

    ``buckets[i]`` counts calls in ``(LATENCY_BUCKETS[i-1], LATENCY_BUCKETS[i]]``
    (not cumulative); the last entry counts calls over the largest bound.
    """

    count: int = 0
    errors: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))

    def add(self, seconds: float, error: bool) -> None:
        """Count one call that took ``seconds``."""
        self.count += 1
        self.errors += error
        self.seconds += seconds
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s calls to this one."""
        self.count += other.count
        self.errors += other.errors
        self.seconds += other.seconds
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]

    def quantile(self, q: float) -> float | None:
        """The estimated ``q``-quantile (0-1) in seconds; None without calls."""
        return bucket_quantile(q, self.buckets)

    def copy(self) -> Histogram:
        """An independent copy."""
        return Histogram(self.count, self.errors, self.seconds, list(self.buckets))


def merged(histograms: Iterable[Histogram]) -> Histogram:
    """One histogram holding the calls of all ``histograms``."""
    total = Histogram()
    for histogram in histograms:
        total.merge(histogram)
    return total


def bucket_quantile(q: float, buckets: list[int]) -> float | None:
    """Estimate the ``q``-quantile (0-1) in seconds from per-bucket counts.

    The method of Prometheus's ``histogram_quantile``: find the bucket holding
    rank ``q * count`` and interpolate linearly inside it (the first bucket starts
    at 0). A rank in the overflow bucket answers the largest finite bound.

    Returns:
        The estimate, or None when the buckets hold no calls.
    """
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    below = 0
    for index, count in enumerate(buckets):
        if count and below + count >= rank:
            if index == len(LATENCY_BUCKETS):
                return LATENCY_BUCKETS[-1]
            lower = LATENCY_BUCKETS[index - 1] if index else 0.0
            upper = LATENCY_BUCKETS[index]
            return lower + (upper - lower) * max(0.0, rank - below) / count
        below += count
    return LATENCY_BUCKETS[-1]  # pragma: no cover - the loop always returns for total > 0


MinuteKey = tuple[int, str, str]
"""(minute start in epoch seconds, tool, action)."""


@dataclass
class Batch:
    """What was recorded between two drains, by minute.

    Attributes:
        calls: Histograms by (minute, tool, action).
        errors: Error answers by (minute, tool, action, error_type).
        checkpoints: complete_phase checkpoints by (minute, ``passed``/``failed``).
    """

    calls: dict[MinuteKey, Histogram] = field(default_factory=dict)
    errors: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    checkpoints: Counter[tuple[int, str]] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.calls or self.checkpoints)

    def merge(self, other: Batch) -> None:
        """Add ``other`` into this batch (used to keep what could not be saved)."""
        for key, histogram in other.calls.items():
            mine = self.calls.get(key)
            if mine is None:
                self.calls[key] = histogram.copy()
            else:
                mine.merge(histogram)
        self.errors.update(other.errors)
        self.checkpoints.update(other.checkpoints)

    def by_call(self) -> dict[tuple[str, str], Histogram]:
        """Histograms by (tool, action), minutes merged."""
        totals: dict[tuple[str, str], Histogram] = {}
        for (_, tool, action), histogram in self.calls.items():
            mine = totals.get((tool, action))
            if mine is None:
                totals[(tool, action)] = histogram.copy()
            else:
                mine.merge(histogram)
        return totals

    def errors_by_type(self) -> Counter[tuple[str, str, str]]:
        """Errors by (tool, action, error_type), minutes merged."""
        totals: Counter[tuple[str, str, str]] = Counter()
        for (_, tool, action, error_type), count in self.errors.items():
            totals[(tool, action, error_type)] += count
        return totals

    def checkpoints_by_result(self) -> Counter[str]:
        """Checkpoints by result, minutes merged."""
        totals: Counter[str] = Counter()
        for (_, result), count in self.checkpoints.items():
            totals[result] += count
        return totals


def error_type_of(response: Mapping[str, Any]) -> str | None:
    """The error_type label of a tool answer (None for a success)."""
    if response.get("status") != "error":
        return None
    error_type = response.get("error_type")
    return error_type if error_type in _KNOWN_ERRORS else "Other"


class Recorder:
    """Collects call observations until the next :meth:`drain` (thread-safe)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._batch = Batch()

    def observe(
        self,
        tool: str,
        action: str,
        seconds: float,
        error_type: str | None = None,
        checkpoint: bool | None = None,
    ) -> None:
        """Record one call: its latency, its error_type if it failed, its checkpoint result."""
        minute = int(self._clock.time()) // 60 * 60
        with self._lock:
            batch = self._batch
            histogram = batch.calls.get((minute, tool, action))
            if histogram is None:
                histogram = batch.calls[(minute, tool, action)] = Histogram()
            histogram.add(seconds, error_type is not None)
            if error_type is not None:
                batch.errors[(minute, tool, action, error_type)] += 1
            if checkpoint is not None:
                batch.checkpoints[(minute, "passed" if checkpoint else "failed")] += 1

    def drain(self) -> Batch:
        """Return everything recorded since the last drain and start afresh."""
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch
