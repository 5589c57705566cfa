"""The monitor of one server: metrics at the tool edge, rollups, alerts, fault injection.

On the request path a call costs one :meth:`Monitor.measure` (two clock reads and one
:class:`Recorder` update). Everything else happens at a *tick*, every
``flush_interval_seconds`` on a background thread and once more when the server
stops: drain the recorder, sample sessions and memory, evaluate the alerts, write
the metrics file in one transaction, prune it once an hour. A tick that cannot
write keeps what it had for the next one, so a busy or read-only file loses nothing
but freshness; a crash loses at most one interval.

The background thread runs while the server runs (its MCP lifespan, for every
transport); tests drive :meth:`Monitor.tick` with a fake clock instead.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import socket
import sqlite3
import threading
import weakref
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import psutil
from mcp.server.mcpserver import MCPServer

from ._alerts import AlertEvaluator, alertmanager_payload, post_webhook
from ._defaults import package_version
from ._envelope import Answer, to_json
from ._faults import Faults
from ._metrics import Batch, Clock, Histogram, Recorder, SystemClock, error_type_of
from ._metrics_store import METRICS_FILE, AlertEvent, Flush, MetricsStore, ServerRecord
from ._monitor_config import MonitoringConfig

__all__ = ["Monitor", "monitor_of"]

logger = logging.getLogger("pos_tool.monitor")

SessionSampler = Callable[[], Iterable[tuple[str, str]]]
"""Returns (status, workflow_type) of every session in the store."""

_SESSION_SAMPLE_SECONDS = 60.0
_REFRESH_SECONDS = 1.0
_PRUNE_SECONDS = 3600.0
_MAX_UNSAVED_KEYS = 100_000
_WEBHOOK_JOIN_SECONDS = 3.0

_MONITORS: weakref.WeakKeyDictionary[MCPServer, Monitor] = weakref.WeakKeyDictionary()
_NUMBERS = itertools.count(1)  # monitors made by this process: a second one gets ".2"


def monitor_of(server: MCPServer) -> Monitor | None:
    """The monitor :func:`~pos_tool.build_server` attached to ``server`` (None without one)."""
    return _MONITORS.get(server)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class Monitor:  # pylint: disable=too-many-instance-attributes
    """Metrics, alerts and fault injection of one server process on one project.

    Args:
        project_root: The project whose metrics file is written.
        config: The monitoring settings (default: the defaults).
        clock: Where time comes from (default: the system clock).
        sessions: Samples the store's sessions as (status, workflow_type) pairs.
        background: Run the periodic tick on a thread while started.
    """

    def __init__(
        self,
        project_root: str | os.PathLike[str],
        *,
        config: MonitoringConfig | None = None,
        clock: Clock | None = None,
        sessions: SessionSampler | None = None,
        background: bool = True,
    ) -> None:
        self.project_root = Path(project_root)
        self.config = config or MonitoringConfig()
        self.clock: Clock = clock or SystemClock()
        self.store = MetricsStore.for_project(self.project_root)
        self.recorder = Recorder(self.clock)
        self.alerts = AlertEvaluator(self.config.rules)
        self.faults = Faults()
        started = self.clock.time()
        host = socket.gethostname()
        number = next(_NUMBERS)
        self.server = ServerRecord(
            f"{host}:{os.getpid()}:{int(started)}" + (f".{number}" if number > 1 else ""),
            os.getpid(),
            host,
            package_version("pos-tool"),
            started,
        )
        self._sessions = sessions
        self._background = background
        self._process = psutil.Process()
        self._tick_lock = threading.Lock()
        self._totals: dict[tuple[str, str], Histogram] = {}
        self._error_totals: Counter[tuple[str, str, str]] = Counter()
        self._checkpoint_totals: Counter[str] = Counter()
        self._window: deque[
            tuple[float, dict[tuple[str, str], Histogram], Counter[tuple[str, str, str]]]
        ] = deque()
        self._unsaved = Batch()
        self._unsaved_events: list[AlertEvent] = []
        self._sessions_now: Counter[tuple[str, str]] | None = None
        self._rss: float | None = None
        self._last_sample = -math.inf
        self._last_prune = -math.inf
        self._last_tick = -math.inf
        self._storage_problem: str | None = None
        self._storage_ready = False
        self._users = 0
        self._users_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._deliveries: list[threading.Thread] = []

    def watch_sessions(self, sessions: SessionSampler) -> None:
        """Sample the sessions of a store (every minute and when the server stops)."""
        self._sessions = sessions

    def attach(self, server: MCPServer) -> None:
        """Make this the monitor of ``server`` (found again with :func:`monitor_of`)."""
        _MONITORS[server] = self

    # ------------------------------------------------------------- the edge

    async def measure(
        self, tool: str, action: str, call: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """Run one tool call through the faults, time it and record it.

        Args:
            tool: The MCP tool called (``pos_workflow`` or a legacy tool's name).
            action: The action label (one of a bounded set: never client text).
            call: Runs the call and returns its answer; never raises.
        """
        clock = self.clock
        began = clock.monotonic()
        faults = self.faults
        if faults:
            if faults.latency_seconds:
                await clock.sleep(faults.latency_seconds)
            if faults.should_fail():
                response = Faults.injected_error(action)
                answer: Answer = (response, to_json(response))
            else:
                answer = await call()
        else:
            answer = await call()
        self.record(tool, action, clock.monotonic() - began, answer[0])
        return answer

    def record(self, tool: str, action: str, seconds: float, response: dict[str, Any]) -> None:
        """Record one finished call from its answer."""
        checkpoint = response.get("checkpoint_passed") if action == "complete_phase" else None
        self.recorder.observe(
            tool,
            action,
            seconds,
            error_type_of(response),
            checkpoint if isinstance(checkpoint, bool) else None,
        )

    def set_faults(self, faults: Faults) -> None:
        """Replace the injected faults (the memory ballast follows)."""
        self.faults.release_memory()
        faults.hold_memory()
        self.faults = faults
        if faults:
            logger.warning("fault injection is ON: %s", faults.describe())

    # ------------------------------------------------------------- the tick

    def _collect(self, now: float) -> None:
        """Move what the recorder holds into the totals, the alert window and the unsaved batch."""
        batch = self.recorder.drain()
        by_call = batch.by_call()
        errors = batch.errors_by_type()
        for key, histogram in by_call.items():
            total = self._totals.get(key)
            if total is None:
                self._totals[key] = histogram.copy()
            else:
                total.merge(histogram)
        self._error_totals.update(errors)
        self._checkpoint_totals.update(batch.checkpoints_by_result())
        self._window.append((now, by_call, errors))
        horizon = now - self.alerts.longest_window
        while self._window and self._window[0][0] <= horizon:
            self._window.popleft()
        self._unsaved.merge(batch)

    def window(
        self, seconds: float, now: float | None = None
    ) -> tuple[dict[tuple[str, str], Histogram], Counter[tuple[str, str, str]]]:
        """This process's calls and errors of the last ``seconds`` (as of the last tick)."""
        now = self.clock.time() if now is None else now
        calls: dict[tuple[str, str], Histogram] = {}
        errors: Counter[tuple[str, str, str]] = Counter()
        for at, by_call, slice_errors in self._window:
            if at > now - seconds:
                for key, histogram in by_call.items():
                    calls.setdefault(key, Histogram()).merge(histogram)
                errors.update(slice_errors)
        return calls, errors

    def _read_rss(self) -> float | None:
        try:
            self._rss = float(self._process.memory_info().rss)
        except psutil.Error:  # pragma: no cover - the process reading itself
            self._rss = None
        return self._rss

    def _sample_sessions(self, now: float, max_age: float) -> Counter[tuple[str, str]] | None:
        """Count the sessions unless the last count is younger than ``max_age`` seconds."""
        if self._sessions is None or now - self._last_sample < max_age:
            return None
        self._last_sample = now
        try:
            self._sessions_now = Counter(self._sessions())
        except Exception:  # pylint: disable=broad-exception-caught
            logger.warning("monitoring could not count the sessions", exc_info=True)
            return None
        return self._sessions_now

    def _ensure_storage(self) -> bool:
        if not self._storage_ready:
            try:
                self.store.setup()
            except (sqlite3.Error, OSError) as exc:
                self._storage_failed(exc)
                return False
            self._storage_ready = True
        return True

    def _storage_failed(self, exc: BaseException) -> None:
        problem = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
        problem = problem.replace(str(self.project_root.resolve()), "<project>")
        if problem != self._storage_problem:
            logger.warning(
                "metrics not written to %s (%s); kept in memory until it works",
                METRICS_FILE,
                problem,
            )
        self._storage_problem = problem

    def _persist(
        self,
        now: float,
        sessions: Counter[tuple[str, str]] | None,
        rss: float | None,
        stopping: bool,
    ) -> None:
        if not self._ensure_storage():
            return
        flush = Flush(
            now, self.server, self._unsaved, sessions, rss, self._unsaved_events, stopping
        )
        try:
            self.store.write(flush)
        except (sqlite3.Error, OSError) as exc:
            self._storage_failed(exc)
            if len(self._unsaved.calls) > _MAX_UNSAVED_KEYS:
                logger.warning("dropping unsaved metrics: the metrics file has failed too long")
                self._unsaved = Batch()
            return
        self._storage_problem = None
        self._unsaved = Batch()
        self._unsaved_events = []
        if now - self._last_prune >= _PRUNE_SECONDS:
            self._last_prune = now
            try:
                self.store.prune(
                    now,
                    retention_days=self.config.retention_days,
                    minute_detail_hours=self.config.minute_detail_hours,
                )
            except sqlite3.Error as exc:
                self._storage_failed(exc)

    def tick(self, now: float | None = None, *, stopping: bool = False) -> list[AlertEvent]:
        """Drain, sample, evaluate the alerts, write the metrics file, prune when due.

        Args:
            now: The time of the tick (default: the clock's).
            stopping: The server is stopping: resolve firing alerts, mark it stopped.

        Returns:
            The alerts that fired or resolved at this tick.
        """
        with self._tick_lock:
            now = self.clock.time() if now is None else now
            self._last_tick = now
            self._collect(now)
            rss = self._read_rss()
            sessions = self._sample_sessions(now, 0 if stopping else _SESSION_SAMPLE_SECONDS)
            events = self.alerts.evaluate(now, lambda s: self.window(s, now), rss)
            if stopping:
                events += self.alerts.resolve_all(now, "the server stopped")
            self._unsaved_events += events
            self._persist(now, sessions, rss, stopping)
            self._deliver(events)
            return events

    def refresh(self) -> None:
        """Tick now unless a tick ran in the last second (a page asking for current data)."""
        if self.clock.time() - self._last_tick >= _REFRESH_SECONDS:
            self.tick()

    def _deliver(self, events: list[AlertEvent]) -> None:
        url = self.config.webhook_url
        if url is None or not events:
            return
        self._deliveries = [t for t in self._deliveries if t.is_alive()]
        project = self.project_root.resolve().name
        for event in events:
            payload = alertmanager_payload(event, project=project, server=self.server.server)
            self._deliveries.append(post_webhook(url, payload))

    def scrape(self) -> dict[str, Any]:
        """Everything ``/metrics`` shows, as of now (drains the recorder, writes nothing)."""
        with self._tick_lock:
            now = self.clock.time()
            self._collect(now)
            self._sample_sessions(now, 0)  # a scrape wants the count now; the listing is cached
            return {
                "calls": {key: h.copy() for key, h in self._totals.items()},
                "errors": Counter(self._error_totals),
                "checkpoints": Counter(self._checkpoint_totals),
                "sessions": Counter(self._sessions_now or {}),
                "rss_bytes": self._read_rss(),
                "started_at": self.server.started_at,
                "version": self.server.version,
                "firing": sorted(self.alerts.firing),
                "rules": [rule.name for rule in self.alerts.rules],
            }

    # ------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start ticking (reference-counted: every start needs a :meth:`close`)."""
        with self._users_lock:
            self._users += 1
            if self._users > 1:
                return
            self._stop.clear()
            self._safe_tick()  # the server's record and its first memory sample, right away
            if self._background:
                self._thread = threading.Thread(
                    target=self._run, name="pos-workflow-monitor", daemon=True
                )
                self._thread.start()

    def _safe_tick(self, *, stopping: bool = False) -> None:
        """A tick whose failure is logged: monitoring never stops or fails the server."""
        try:
            self.tick(stopping=stopping)
        except Exception:  # pylint: disable=broad-exception-caught
            logger.exception("monitoring tick failed")

    def _run(self) -> None:
        while not self._stop.wait(self.config.flush_interval_seconds):
            self._safe_tick()

    def close(self) -> None:
        """Stop ticking after the last user: a final tick writes everything and marks the stop."""
        with self._users_lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users:
                return
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            self._safe_tick(stopping=True)
            self.store.close()
            for delivery in self._deliveries:
                delivery.join(_WEBHOOK_JOIN_SECONDS)
            self._deliveries = []

    @contextlib.asynccontextmanager
    async def lifespan(self, _server: MCPServer) -> AsyncIterator[dict[str, Any]]:
        """The MCP server lifespan: tick while the server runs, flush when it stops."""
        await anyio.to_thread.run_sync(self.start)
        try:
            yield {}
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.close)

    # ------------------------------------------------------------- reporting

    def info(self) -> dict[str, Any]:
        """What ``get_server_info`` reports under ``monitoring``."""
        now = self.clock.time()
        firing = [
            {
                "alert": event.alert,
                "since": _iso(event.fired_at),
                "value": round(event.value, 4),
                "threshold": event.threshold,
                "summary": event.summary,
            }
            for event in self.alerts.firing.values()
        ]
        return {
            "metrics_file": METRICS_FILE,
            "storage_problem": self._storage_problem,
            "uptime_seconds": round(max(0.0, now - self.server.started_at), 1),
            "rss_mb": None if self._rss is None else round(self._rss / 1024 / 1024, 1),
            "alerts_firing": firing,
            "faults": self.faults.describe(),
        }
