"""The metrics file of a project: ``.praxis-os/metrics/metrics.db`` (SQLite, WAL mode).

Every server process on the project writes its rollups here at each flush, in
one short ``BEGIN IMMEDIATE`` transaction: counters are added with upserts, so
several processes sum up correctly and a restart continues where the last one
stopped. Readers (``pos-workflow stats``, the dashboard, the cutover report) never
block the writers (WAL). Nothing here runs on the request path.

Tables (one row per rollup bucket; ``resolution`` is 60 or 3600 seconds and
``start`` the bucket's first second, epoch UTC):

- ``calls``: calls, errors, total seconds and the latency histogram
  (``b00``..``b13``, per-bucket counts for :data:`LATENCY_BUCKETS` and overflow)
  by tool and action;
- ``call_errors``: errors by tool, action and error_type;
- ``checkpoints``: complete_phase checkpoints by result (passed, failed);
- ``sessions``: the last sample in the bucket of sessions by status and workflow;
- ``memory``: resident memory by server process (last and peak in the bucket);
- ``servers``: every server process seen (pid, host, version, start, last flush, stop);
- ``alerts``: alert history (fired, resolved, values).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._metrics import LATENCY_BUCKETS, Batch, Histogram

__all__ = ["METRICS_FILE", "AlertEvent", "Flush", "MetricsStore", "ServerRecord"]

METRICS_FILE = ".praxis-os/metrics/metrics.db"
"""Where a project's metrics live, relative to the project root."""

MINUTE = 60
HOUR = 3600
_BUSY_TIMEOUT_MS = 10_000  # how long a flush waits for another process's transaction
_BUCKET_COLUMNS = tuple(f"b{i:02d}" for i in range(len(LATENCY_BUCKETS) + 1))

_SCHEMA_V1: tuple[str, ...] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE TABLE calls (
        resolution INTEGER NOT NULL, start INTEGER NOT NULL,
        tool TEXT NOT NULL, action TEXT NOT NULL,
        calls INTEGER NOT NULL, errors INTEGER NOT NULL, seconds_sum REAL NOT NULL,
        {", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in _BUCKET_COLUMNS)},
        PRIMARY KEY (resolution, start, tool, action)) WITHOUT ROWID""",
    """CREATE TABLE call_errors (
        resolution INTEGER NOT NULL, start INTEGER NOT NULL,
        tool TEXT NOT NULL, action TEXT NOT NULL, error_type TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (resolution, start, tool, action, error_type)) WITHOUT ROWID""",
    """CREATE TABLE checkpoints (
        resolution INTEGER NOT NULL, start INTEGER NOT NULL, result TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (resolution, start, result)) WITHOUT ROWID""",
    """CREATE TABLE sessions (
        resolution INTEGER NOT NULL, start INTEGER NOT NULL,
        status TEXT NOT NULL, workflow_type TEXT NOT NULL, count INTEGER NOT NULL,
        sampled_at REAL NOT NULL,
        PRIMARY KEY (resolution, start, status, workflow_type)) WITHOUT ROWID""",
    """CREATE TABLE memory (
        resolution INTEGER NOT NULL, start INTEGER NOT NULL, server TEXT NOT NULL,
        rss_last REAL NOT NULL, rss_max REAL NOT NULL,
        PRIMARY KEY (resolution, start, server)) WITHOUT ROWID""",
    """CREATE TABLE servers (
        server TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL,
        version TEXT NOT NULL, started_at REAL NOT NULL, last_seen REAL NOT NULL,
        stopped_at REAL)""",
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY, alert TEXT NOT NULL, server TEXT NOT NULL,
        fired_at REAL NOT NULL, resolved_at REAL, value REAL NOT NULL,
        resolved_value REAL, threshold REAL NOT NULL, summary TEXT NOT NULL)""",
    "CREATE INDEX alerts_by_time ON alerts (fired_at)",
)
_MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1,)
"""Append-only: migration ``n`` brings ``PRAGMA user_version`` from ``n`` to ``n + 1``."""

_UPSERT_CALLS = (
    f"INSERT INTO calls (resolution, start, tool, action, calls, errors, seconds_sum, "  # noqa: S608  # nosec B608 - constant column names
    f"{', '.join(_BUCKET_COLUMNS)}) VALUES ({', '.join('?' * (7 + len(_BUCKET_COLUMNS)))}) "
    "ON CONFLICT (resolution, start, tool, action) DO UPDATE SET "
    "calls = calls + excluded.calls, errors = errors + excluded.errors, "
    "seconds_sum = seconds_sum + excluded.seconds_sum, "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in _BUCKET_COLUMNS)
)


@dataclass(frozen=True)
class ServerRecord:
    """One server process, as the ``servers`` table records it."""

    server: str
    pid: int
    host: str
    version: str
    started_at: float
    last_seen: float = 0.0
    stopped_at: float | None = None


@dataclass(frozen=True)
class AlertEvent:
    """An alert that fired or resolved at one evaluation.

    Attributes:
        alert: The alert name (``PosWorkflowHighLatency``, ...).
        state: ``firing`` or ``resolved``.
        at: When (epoch seconds).
        value: The measured value (seconds, a ratio or bytes).
        threshold: The rule's threshold, in the same unit.
        summary: One line for humans.
        fired_at: When the alert started firing (equals ``at`` for ``firing``).
    """

    alert: str
    state: str
    at: float
    value: float
    threshold: float
    summary: str
    fired_at: float


@dataclass
class Flush:
    """Everything one server writes at one flush."""

    now: float
    server: ServerRecord
    batch: Batch = field(default_factory=Batch)
    sessions: Counter[tuple[str, str]] | None = None
    rss_bytes: float | None = None
    events: list[AlertEvent] = field(default_factory=list)
    stopping: bool = False


def _starts(minute: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return (MINUTE, minute), (HOUR, minute // HOUR * HOUR)


class MetricsStore:
    """The SQLite metrics file of one project.

    Args:
        path: The database file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: sqlite3.Connection | None = None

    @classmethod
    def for_project(cls, project_root: str | os.PathLike[str]) -> MetricsStore:
        """The metrics file of ``project_root`` (not created until :meth:`setup`)."""
        return cls(Path(project_root) / METRICS_FILE)

    def exists(self) -> bool:
        """Whether the file has been created."""
        return self.path.is_file()

    def _open(self, *, create: bool = False) -> sqlite3.Connection:
        uri = f"{self.path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
        connection = sqlite3.connect(
            uri,
            uri=True,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            # The writer is used by one thread at a time (the monitor's tick lock).
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    @contextlib.contextmanager
    def connect(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        """Open a connection (autocommit; transactions are explicit) and close it after.

        Raises:
            sqlite3.Error: The file cannot be opened (``create=False``: it does not exist).
        """
        connection = self._open(create=create)
        try:
            yield connection
        finally:
            connection.close()

    def _writer_connection(self) -> sqlite3.Connection:
        # Kept open between flushes: closing the last connection checkpoints the WAL
        # into the file (an fsync), which a flush every few seconds need not pay.
        if self._writer is None:
            self._writer = self._open()
        return self._writer

    def close(self) -> None:
        """Close the writing connection (the next write opens it again)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def setup(self) -> None:
        """Create the folder (0700), the file (0600) and the tables; idempotent, race-safe."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created with owner-only permissions before SQLite opens it (the WAL and
        # shared-memory files inherit the database file's mode).
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), 0o600))
        with self.connect(create=True) as db:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes effect on a new file
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                for number, statements in enumerate(_MIGRATIONS[version:], start=version):
                    for statement in statements:
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {number + 1}")
                db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('latency_buckets_seconds', ?)",
                    (",".join(map(str, LATENCY_BUCKETS)),),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """The writing connection inside ``BEGIN IMMEDIATE``: committed, or rolled back on error."""
        db = self._writer_connection()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            self.close()  # e.g. the file was replaced: open it afresh next time
            raise
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def write(self, flush: Flush) -> None:
        """Write one flush in one transaction (all of it or nothing)."""
        with self._transaction() as db:
            self._write(db, flush)

    def _write(self, db: sqlite3.Connection, flush: Flush) -> None:
        batch = flush.batch
        db.executemany(
            _UPSERT_CALLS,
            [
                (res, start, tool, action, h.count, h.errors, h.seconds, *h.buckets)
                for (minute, tool, action), h in batch.calls.items()
                for res, start in _starts(minute)
            ],
        )
        db.executemany(
            "INSERT INTO call_errors VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET count = count + excluded.count",
            [
                (res, start, tool, action, error_type, count)
                for (minute, tool, action, error_type), count in batch.errors.items()
                for res, start in _starts(minute)
            ],
        )
        db.executemany(
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET count = count + excluded.count",
            [
                (res, start, result, count)
                for (minute, result), count in batch.checkpoints.items()
                for res, start in _starts(minute)
            ],
        )
        minute = int(flush.now) // MINUTE * MINUTE
        if flush.sessions is not None:
            for res, start in _starts(minute):
                # A sample replaces the bucket's previous one: a status that emptied must read 0.
                db.execute("DELETE FROM sessions WHERE resolution = ? AND start = ?", (res, start))
                db.executemany(
                    "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (res, start, status, workflow, count, flush.now)
                        for (status, workflow), count in flush.sessions.items()
                    ],
                )
        server = flush.server
        if flush.rss_bytes is not None:
            db.executemany(
                "INSERT INTO memory VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                "SET rss_last = excluded.rss_last, rss_max = MAX(rss_max, excluded.rss_max)",
                [
                    (res, start, server.server, flush.rss_bytes, flush.rss_bytes)
                    for res, start in _starts(minute)
                ],
            )
        db.execute(
            "INSERT INTO servers VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET last_seen = excluded.last_seen, stopped_at = excluded.stopped_at",
            (
                server.server,
                server.pid,
                server.host,
                server.version,
                server.started_at,
                flush.now,
                flush.now if flush.stopping else None,
            ),
        )
        for event in flush.events:
            if event.state == "firing":
                db.execute(
                    "INSERT INTO alerts (alert, server, fired_at, value, threshold, summary) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        event.alert,
                        server.server,
                        event.at,
                        event.value,
                        event.threshold,
                        event.summary,
                    ),
                )
            else:
                db.execute(
                    "UPDATE alerts SET resolved_at = ?, resolved_value = ? "
                    "WHERE alert = ? AND server = ? AND resolved_at IS NULL",
                    (event.at, event.value, event.alert, server.server),
                )

    def prune(self, now: float, *, retention_days: int, minute_detail_hours: int) -> int:
        """Delete what is older than the retention; return the number of rows deleted."""
        hourly_before = now - retention_days * 86400
        minutely_before = now - minute_detail_hours * HOUR
        deleted = 0
        with self._transaction() as db:
            for table in ("calls", "call_errors", "checkpoints", "sessions", "memory"):
                for resolution, before in ((MINUTE, minutely_before), (HOUR, hourly_before)):
                    # A bucket goes once all of it is older than the limit.
                    deleted += db.execute(
                        f"DELETE FROM {table} WHERE resolution = ? AND start + ? <= ?",  # noqa: S608  # nosec B608 - constant table names
                        (resolution, resolution, before),
                    ).rowcount
            deleted += db.execute(
                "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?",
                (hourly_before,),
            ).rowcount
            deleted += db.execute(
                "DELETE FROM servers WHERE last_seen < ?", (hourly_before,)
            ).rowcount
        self._writer_connection().execute("PRAGMA incremental_vacuum")
        return deleted

    # ------------------------------------------------------------------ reading

    def calls(
        self, resolution: int, since: float, until: float
    ) -> list[tuple[int, str, str, Histogram]]:
        """Rows ``(start, tool, action, histogram)`` of buckets starting in ``[since, until)``."""
        with self.connect() as db:
            rows = db.execute(
                f"SELECT start, tool, action, calls, errors, seconds_sum, {', '.join(_BUCKET_COLUMNS)} "  # noqa: S608  # nosec B608 - constant column names
                "FROM calls WHERE resolution = ? AND start >= ? AND start < ? "
                "ORDER BY start, tool, action",
                (resolution, since, until),
            ).fetchall()
        return [(r[0], r[1], r[2], Histogram(r[3], r[4], r[5], list(r[6:]))) for r in rows]

    def _grouped(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self.connect() as db:
            return db.execute(sql, args).fetchall()

    def errors(
        self, resolution: int, since: float, until: float
    ) -> list[tuple[int, str, str, str, int]]:
        """Rows ``(start, tool, action, error_type, count)``."""
        return self._grouped(
            "SELECT start, tool, action, error_type, count FROM call_errors "
            "WHERE resolution = ? AND start >= ? AND start < ? ORDER BY start",
            (resolution, since, until),
        )

    def checkpoints(self, resolution: int, since: float, until: float) -> Counter[str]:
        """Checkpoints by result over the period."""
        rows = self._grouped(
            "SELECT result, SUM(count) FROM checkpoints "
            "WHERE resolution = ? AND start >= ? AND start < ? GROUP BY result",
            (resolution, since, until),
        )
        return Counter({result: int(count) for result, count in rows})

    def sessions(
        self, resolution: int, since: float, until: float
    ) -> list[tuple[int, str, str, int, float]]:
        """Rows ``(start, status, workflow_type, count, sampled_at)``."""
        return self._grouped(
            "SELECT start, status, workflow_type, count, sampled_at FROM sessions "
            "WHERE resolution = ? AND start >= ? AND start < ? ORDER BY start",
            (resolution, since, until),
        )

    def memory(
        self, resolution: int, since: float, until: float
    ) -> list[tuple[int, str, float, float]]:
        """Rows ``(start, server, rss_last, rss_max)``."""
        return self._grouped(
            "SELECT start, server, rss_last, rss_max FROM memory "
            "WHERE resolution = ? AND start >= ? AND start < ? ORDER BY start",
            (resolution, since, until),
        )

    def servers(self, since: float) -> list[ServerRecord]:
        """Server processes seen at or after ``since``, most recent first."""
        rows = self._grouped(
            "SELECT server, pid, host, version, started_at, last_seen, stopped_at FROM servers "
            "WHERE last_seen >= ? ORDER BY last_seen DESC",
            (since,),
        )
        return [ServerRecord(*row) for row in rows]

    def alerts(self, since: float) -> list[dict[str, Any]]:
        """Alerts firing now or active at some point after ``since``, newest first."""
        with self.connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT alert, server, fired_at, resolved_at, value, resolved_value, threshold, "
                "summary FROM alerts WHERE resolved_at IS NULL OR resolved_at >= ? "
                "ORDER BY fired_at DESC",
                (since,),
            ).fetchall()
        return [dict(row) for row in rows]

    def meta(self) -> Mapping[str, str]:
        """The ``meta`` table (format facts such as the latency bucket bounds)."""
        return dict(self._grouped("SELECT key, value FROM meta", ()))
