"""Read a project's metrics file: the summary ``pos-workflow stats`` prints, and time series.

One function computes the summary (:func:`metrics_summary`); the ``stats`` command,
the dashboard's table and the cutover report all show its numbers, so they agree.
Latencies are in milliseconds rounded to 2 decimals; p50/p95/p99 are estimated
from the histogram buckets (see :func:`~pos_tool._metrics.bucket_quantile`), the
mean is exact.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pos_engine import SESSION_STATUSES

from ._actions import ACTIONS, TOOL_NAME
from ._legacy_table import LEGACY_TOOLS
from ._metrics import Histogram, merged
from ._metrics_store import HOUR, METRICS_FILE, MINUTE, MetricsStore, ServerRecord
from ._monitor_config import MB, MonitoringConfig, load_monitoring_config

__all__ = ["metrics_series", "metrics_summary", "render_summary"]

PERCENTILE_NOTE = (
    "p50/p95/p99 are estimated from histogram buckets (linear interpolation inside a bucket, "
    "as Prometheus's histogram_quantile); the mean is exact"
)
_LIVE_AFTER_MISSED_FLUSHES = 3
_ORDER = {name: i for i, name in enumerate((*ACTIONS, "unknown"))}
_LEGACY_ORDER = {name: i for i, name in enumerate(LEGACY_TOOLS)}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def label(tool: str, action: str) -> str:
    """How a tool/action pair is shown: the action, or the legacy tool's name."""
    return action if tool == TOOL_NAME else f"{tool} (legacy)"


def _sort_key(key: tuple[str, str]) -> tuple[int, int, str]:
    tool, action = key
    if tool == TOOL_NAME:
        return (0, _ORDER.get(action, len(_ORDER)), action)
    return (1, _LEGACY_ORDER.get(tool, len(_LEGACY_ORDER)), tool)


def _row(histogram: Histogram) -> dict[str, Any]:
    calls = histogram.count
    return {
        "calls": calls,
        "errors": histogram.errors,
        "error_rate_percent": round(100 * histogram.errors / calls, 2) if calls else 0.0,
        "mean_ms": _ms(histogram.seconds / calls) if calls else None,
        "p50_ms": _ms(histogram.quantile(0.50)),
        "p95_ms": _ms(histogram.quantile(0.95)),
        "p99_ms": _ms(histogram.quantile(0.99)),
    }


def _resolution(config: MonitoringConfig, since: float, until: float) -> int:
    return MINUTE if until - since <= config.minute_detail_hours * HOUR else HOUR


def _server_dict(s: ServerRecord, now: float, live_after: float) -> dict[str, Any]:
    running = s.stopped_at is None and now - s.last_seen <= live_after
    end = now if running else (s.stopped_at or s.last_seen)
    return {
        "server": s.server,
        "pid": s.pid,
        "host": s.host,
        "version": s.version,
        "started_at": _iso(s.started_at),
        "last_seen": _iso(s.last_seen),
        "stopped_at": _iso(s.stopped_at),
        "running": running,
        "uptime_seconds": round(max(0.0, end - s.started_at), 1),
    }


def _sessions(rows: Iterable[tuple[int, str, str, int, float]]) -> dict[str, Any]:
    rows = list(rows)
    if not rows:
        return {"sampled_at": None, "by_status": {}, "by_workflow": {}}
    latest = max(row[0] for row in rows)
    current = [row for row in rows if row[0] == latest]
    by_status: Counter[str] = Counter()
    by_workflow: Counter[str] = Counter()
    for _, status, workflow, count, _ in current:
        by_status[status] += count
        by_workflow[workflow] += count
    statuses = SESSION_STATUSES
    return {
        "sampled_at": _iso(max(row[4] for row in current)),
        "by_status": {
            s: by_status.get(s, 0) for s in (*statuses, *sorted(set(by_status) - set(statuses)))
        },
        "by_workflow": dict(sorted(by_workflow.items())),
    }


def _alert_dict(row: Mapping[str, Any], running: set[str]) -> dict[str, Any]:
    return {
        "alert": row["alert"],
        "server": row["server"],
        "fired_at": _iso(row["fired_at"]),
        "resolved_at": _iso(row["resolved_at"]),
        "firing": row["resolved_at"] is None and row["server"] in running,
        "stale": row["resolved_at"] is None and row["server"] not in running,
        "value": row["value"],
        "threshold": row["threshold"],
        "summary": row["summary"],
    }


def metrics_summary(
    project_root: str | os.PathLike[str],
    *,
    window_seconds: float = 86400,
    since: float | None = None,
    now: float | None = None,
    config: MonitoringConfig | None = None,
) -> dict[str, Any] | None:
    """Summarise a project's metrics over a period.

    Args:
        project_root: The project whose ``.praxis-os/metrics/metrics.db`` is read.
        window_seconds: The period, ending now (default: 24 hours).
        since: The start of the period (epoch seconds), instead of ``window_seconds``.
        now: The end of the period (default: the current time).
        config: The monitoring settings (default: the project's).

    Returns:
        Per action (in tool order) calls, errors, error rate and mean/p50/p95/p99 in
        ms, the same for all calls, errors by type, checkpoints, the latest sessions
        sample, the server processes with their memory, and the alerts; None when the
        project has no metrics file yet.

    Raises:
        MonitoringConfigError: The project's monitoring file is unusable.
        sqlite3.Error: The metrics file is not a readable metrics database.
    """
    root = Path(project_root)
    store = MetricsStore.for_project(root)
    if not store.exists():
        return None
    config = config or load_monitoring_config(root)
    now = datetime.now(UTC).timestamp() if now is None else now
    start = now - window_seconds if since is None else since
    resolution = _resolution(config, start, now)
    first = int(start) // resolution * resolution
    by_call: dict[tuple[str, str], Histogram] = {}
    for _, tool, action, histogram in store.calls(resolution, first, now + 1):
        by_call.setdefault((tool, action), Histogram()).merge(histogram)
    errors: Counter[str] = Counter()
    for _, _, _, error_type, count in store.errors(resolution, first, now + 1):
        errors[error_type] += count
    live_after = max(60.0, _LIVE_AFTER_MISSED_FLUSHES * config.flush_interval_seconds)
    servers = [_server_dict(s, now, live_after) for s in store.servers(start)]
    running = {s["server"] for s in servers if s["running"]}
    memory: dict[str, dict[str, float | None]] = {}
    for _, name, rss_last, rss_max in store.memory(resolution, first, now + 1):
        entry = memory.setdefault(name, {"last_mb": 0.0, "peak_mb": 0.0})
        entry["last_mb"] = round(rss_last / MB, 1)
        entry["peak_mb"] = max(entry["peak_mb"] or 0.0, round(rss_max / MB, 1))
    for record in servers:
        record.update(memory.get(record["server"], {"last_mb": None, "peak_mb": None}))
    alerts = [_alert_dict(row, running) for row in store.alerts(start)]
    checkpoints = store.checkpoints(resolution, first, now + 1)
    return {
        "project": root.resolve().name,
        "metrics_file": METRICS_FILE,
        "since": _iso(first),  # rollups are whole buckets: the period starts at one
        "until": _iso(now),
        "resolution_seconds": resolution,
        "percentiles": PERCENTILE_NOTE,
        "actions": [
            {"tool": tool, "action": action, "label": label(tool, action), **_row(h)}
            for (tool, action), h in sorted(by_call.items(), key=lambda kv: _sort_key(kv[0]))
        ],
        "total": _row(merged(by_call.values())),
        "errors_by_type": dict(sorted(errors.items())),
        "checkpoints": {"passed": checkpoints["passed"], "failed": checkpoints["failed"]},
        "sessions": _sessions(store.sessions(resolution, first, now + 1)),
        "servers": servers,
        "alerts": {
            "firing": [a for a in alerts if a["firing"]],
            "history": alerts,
        },
    }


def metrics_series(
    project_root: str | os.PathLike[str],
    *,
    window_seconds: float = 86400,
    now: float | None = None,
    config: MonitoringConfig | None = None,
) -> dict[str, Any]:
    """Time series for the dashboard's charts (empty lists without a metrics file).

    Returns:
        ``times`` (bucket starts, epoch seconds) and, per bucket, p95 latency in ms
        by action label, calls and error rate (%), sessions by status and resident
        memory (MB, peak in the bucket) by server; a missing value is None.
    """
    root = Path(project_root)
    store = MetricsStore.for_project(root)
    empty: dict[str, Any] = {
        "times": [],
        "resolution_seconds": MINUTE,
        "latency_p95_ms": {},
        "calls": [],
        "error_rate_percent": [],
        "sessions": {},
        "memory_mb": {},
    }
    if not store.exists():
        return empty
    config = config or load_monitoring_config(root)
    now = datetime.now(UTC).timestamp() if now is None else now
    resolution = _resolution(config, now - window_seconds, now)
    first = int(now - window_seconds) // resolution * resolution
    times = list(range(first, int(now) + 1, resolution))
    index = {t: i for i, t in enumerate(times)}
    per_bucket: dict[int, dict[tuple[str, str], Histogram]] = defaultdict(dict)
    for start, tool, action, histogram in store.calls(resolution, first, now + 1):
        per_bucket[start][(tool, action)] = histogram
    keys = sorted({key for bucket in per_bucket.values() for key in bucket}, key=_sort_key)
    latency: dict[str, list[float | None]] = {label(*key): [None] * len(times) for key in keys}
    calls: list[int | None] = [None] * len(times)
    error_rate: list[float | None] = [None] * len(times)
    for start, bucket in per_bucket.items():
        i = index[start]
        for key, histogram in bucket.items():
            latency[label(*key)][i] = _ms(histogram.quantile(0.95))
        total = merged(bucket.values())
        calls[i] = total.count
        error_rate[i] = round(100 * total.errors / total.count, 2) if total.count else 0.0
    sessions: dict[str, list[int | None]] = {}
    for start, status, _, count, _ in store.sessions(resolution, first, now + 1):
        column = sessions.setdefault(status, [None] * len(times))
        column[index[start]] = (column[index[start]] or 0) + count
    memory: dict[str, list[float | None]] = {}
    for start, server, _, rss_max in store.memory(resolution, first, now + 1):
        memory.setdefault(server, [None] * len(times))[index[start]] = round(rss_max / MB, 1)
    return {
        "times": times,
        "resolution_seconds": resolution,
        "latency_p95_ms": latency,
        "calls": calls,
        "error_rate_percent": error_rate,
        "sessions": sessions,
        "memory_mb": memory,
    }


# ------------------------------------------------------------------ text

_COLUMNS = ("calls", "errors", "error_rate_percent", "mean_ms", "p50_ms", "p95_ms", "p99_ms")
_HEADERS = ("action", "calls", "errors", "error %", "mean ms", "p50 ms", "p95 ms", "p99 ms")


def cell(value: Any) -> str:
    """One table cell as ``stats`` and the dashboard show it (2 decimals, ``-`` for none)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0 and (unit != "d" or seconds > 86400):
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def _duration(seconds: float) -> str:
    """``1 d 2 h``, ``2 h 5 min``, ``5 min 3 s`` or ``12 s``: the two largest units."""
    left = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
    return " ".join(parts[:2])


def _table(summary: Mapping[str, Any]) -> list[str]:
    rows = [(a["label"], *(cell(a[c]) for c in _COLUMNS)) for a in summary["actions"]]
    rows.append(("all", *(cell(summary["total"][c]) for c in _COLUMNS)))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]

    def line(cells: Iterable[str]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts)

    return [line(_HEADERS), *(line(r) for r in rows)]


def render_summary(summary: Mapping[str, Any], window_seconds: float | None = None) -> str:
    """The summary as the plain-text report ``pos-workflow stats`` prints."""
    rollups = "1-minute" if summary["resolution_seconds"] == MINUTE else "1-hour"
    period = f"last {_span(window_seconds)}, " if window_seconds else ""
    lines = [
        f"pos_workflow metrics of project {summary['project']!r}: {period}"
        f"{summary['since']} to {summary['until']} ({rollups} rollups, {summary['metrics_file']})",
        "",
    ]
    if summary["actions"]:
        lines += [*_table(summary), f"{PERCENTILE_NOTE}."]
    else:
        lines.append("no tool calls recorded in this period")
    errors = summary["errors_by_type"]
    lines += [
        "",
        "errors by type: " + (", ".join(f"{k} {v}" for k, v in errors.items()) or "none"),
        f"checkpoints: {summary['checkpoints']['passed']} passed, "
        f"{summary['checkpoints']['failed']} failed",
    ]
    sessions = summary["sessions"]
    if sessions["sampled_at"]:
        lines.append(
            f"sessions (sampled {sessions['sampled_at']}): "
            + ", ".join(f"{k} {v}" for k, v in sessions["by_status"].items())
        )
        if sessions["by_workflow"]:
            lines.append(
                "  by workflow: "
                + ", ".join(f"{k} {v}" for k, v in sessions["by_workflow"].items())
            )
    else:
        lines.append("sessions: not sampled in this period")
    for server in summary["servers"]:
        state = "running" if server["running"] else "stopped"
        memory = (
            f", memory {server['last_mb']} MB (peak {server['peak_mb']} MB)"
            if server["last_mb"] is not None
            else ""
        )
        lines.append(
            f"server {server['server']} ({state}, version {server['version']}, "
            f"up {_duration(server['uptime_seconds'])}{memory})"
        )
    alerts = summary["alerts"]
    lines.append(
        "alerts firing: "
        + (
            "; ".join(
                f"{a['alert']} since {a['fired_at']}: {a['summary']}" for a in alerts["firing"]
            )
            or "none"
        )
    )
    for a in alerts["history"]:
        if not a["firing"]:
            end = a["resolved_at"] or "never resolved (its server stopped)"
            lines.append(f"  {a['alert']}: {a['fired_at']} to {end}: {a['summary']}")
    return "\n".join(lines) + "\n"


def load_summary_safely(
    root: Path, window_seconds: float
) -> tuple[dict[str, Any] | None, str | None]:
    """:func:`metrics_summary`, with a metrics file that cannot be read turned into a message."""
    try:
        return metrics_summary(root, window_seconds=window_seconds), None
    except sqlite3.Error as exc:
        return None, f"{METRICS_FILE} cannot be read ({type(exc).__name__}: {exc})"
