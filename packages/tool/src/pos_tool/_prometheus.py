"""The Prometheus exposition of a server's metrics (``GET /metrics`` on the HTTP transport).

A custom collector reads the monitor's totals at scrape time, so a call is recorded
once (by the tool edge) whether or not anything scrapes. Series, with conventional
names and units:

- ``pos_workflow_call_duration_seconds`` (histogram; labels ``tool``, ``action``);
- ``pos_workflow_call_errors_total`` (counter; ``tool``, ``action``, ``error_type``);
- ``pos_workflow_checkpoints_total`` (counter; ``result``: passed, failed);
- ``pos_workflow_sessions`` (gauge; ``status``, ``workflow_type``; sampled every minute);
- ``pos_workflow_alert_firing`` (gauge, 0 or 1; ``alertname``): the embedded alerts;
- ``pos_workflow_build_info`` (gauge, 1; ``version``);
- ``process_resident_memory_bytes`` and ``process_start_time_seconds`` (gauges).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from ._metrics import LATENCY_BUCKETS
from ._monitor import Monitor

__all__ = ["CONTENT_TYPE", "SERIES", "exposition"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Content-Type of the text exposition format."""

SERIES: tuple[str, ...] = (
    "pos_workflow_call_duration_seconds",
    "pos_workflow_call_errors_total",
    "pos_workflow_checkpoints_total",
    "pos_workflow_sessions",
    "pos_workflow_alert_firing",
    "pos_workflow_build_info",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
)
"""Every series name ``/metrics`` exposes (histograms add ``_bucket``, ``_sum``, ``_count``)."""

# Bucket bounds as the client library writes them ("1.0", not "1").
_BOUNDS: tuple[str, ...] = tuple(
    floatToGoString(bound)  # type: ignore[no-untyped-call]
    for bound in LATENCY_BUCKETS
)


class _MonitorCollector(Collector):
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        data = self.monitor.scrape()
        duration = HistogramMetricFamily(
            "pos_workflow_call_duration_seconds",
            "Latency of tool calls as the server answered them, by tool and action.",
            labels=["tool", "action"],
        )
        for (tool, action), histogram in sorted(data["calls"].items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*_BOUNDS, "+Inf"), histogram.buckets, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            duration.add_metric([tool, action], buckets, sum_value=histogram.seconds)
        yield duration
        errors = CounterMetricFamily(
            "pos_workflow_call_errors",
            "Tool calls answered with an error, by tool, action and error_type.",
            labels=["tool", "action", "error_type"],
        )
        for (tool, action, error_type), count in sorted(data["errors"].items()):
            errors.add_metric([tool, action, error_type], count)
        yield errors
        checkpoints = CounterMetricFamily(
            "pos_workflow_checkpoints",
            "complete_phase checkpoints evaluated, by result (passed, failed).",
            labels=["result"],
        )
        for result in ("passed", "failed"):
            checkpoints.add_metric([result], data["checkpoints"].get(result, 0))
        yield checkpoints
        sessions = GaugeMetricFamily(
            "pos_workflow_sessions",
            "Sessions in the project's store by status and workflow_type (sampled every minute).",
            labels=["status", "workflow_type"],
        )
        for (status, workflow), count in sorted(data["sessions"].items()):
            sessions.add_metric([status, workflow], count)
        yield sessions
        firing = GaugeMetricFamily(
            "pos_workflow_alert_firing",
            "1 while the server's embedded alert is firing, else 0.",
            labels=["alertname"],
        )
        for name in data["rules"]:
            firing.add_metric([name], 1.0 if name in data["firing"] else 0.0)
        yield firing
        yield _info(data["version"])
        if data["rss_bytes"] is not None:
            yield GaugeMetricFamily(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                value=data["rss_bytes"],
            )
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            value=data["started_at"],
        )


def _info(version: str) -> GaugeMetricFamily:
    info = GaugeMetricFamily(
        "pos_workflow_build_info", "The pos-tool version serving (always 1).", labels=["version"]
    )
    info.add_metric([version], 1.0)
    return info


def exposition(monitor: Monitor) -> bytes:
    """The monitor's metrics in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_MonitorCollector(monitor))
    return generate_latest(registry)
