"""The monitoring file: ``.praxis-os/config/monitoring.json`` (schema in specs/).

Without the file every default applies: metrics on, flushed every 10 s, minute
rollups kept 48 h and hourly ones 30 days, and the plan's three alerts (p95 latency
over 1 s and error rate over 5% in the last 5 minutes, resident memory over 100 MB).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._registry import packaged_schema, read_config_json, schema_mismatch
from .exceptions import MonitoringConfigError

logger = logging.getLogger(__name__)

WEBHOOK_ENV = "POS_WORKFLOW_ALERT_WEBHOOK"
"""The operator's alert webhook URL; it takes precedence over the project file's."""

ALLOW_PROJECT_WEBHOOK_ENV = "POS_WORKFLOW_ALLOW_PROJECT_WEBHOOK"
"""``1``: honour ``alerts.webhook_url`` from the project's monitoring file.

Off by default: a cloned project must not make the server contact a URL of its
choosing (the same rule as for ``$ref`` in schemas: project content fetches nothing).
"""

__all__ = [
    "MONITORING_FILE",
    "AlertRule",
    "MonitoringConfig",
    "load_monitoring_config",
    "monitoring_schema",
]

MONITORING_FILE = ".praxis-os/config/monitoring.json"
"""Where a project keeps its monitoring settings, relative to the project root."""

MB = 1024 * 1024


@dataclass(frozen=True)
class AlertRule:
    """One alert the server evaluates at every flush.

    Attributes:
        name: The alert name, as Prometheus's rules in ``deploy/prometheus`` name it.
        kind: ``latency`` (p95 seconds), ``error_rate`` (a ratio) or ``memory`` (RSS bytes).
        threshold: Fires when the measured value is above it.
        window_seconds: The window latency and error rate are measured over.
        min_calls: Fewer calls in the window never fire (latency, error rate).
        error_types: For ``error_rate``: the error types counted (empty: every error).
        enabled: Whether the rule is evaluated.
    """

    name: str
    kind: str
    threshold: float
    window_seconds: int = 300
    min_calls: int = 10
    error_types: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class MonitoringConfig:
    """Monitoring settings of one project (the defaults without a monitoring file).

    Attributes:
        enabled: Collect metrics at all.
        flush_interval_seconds: How often metrics are written and alerts evaluated.
        retention_days: Age at which hourly rollups and alert history are deleted.
        minute_detail_hours: Age at which minute rollups are deleted.
        rules: The alert rules.
        webhook_url: Where alert changes are POSTed (None: not sent).
        source: ``MONITORING_FILE`` when read from the project, ``"default"`` otherwise.
    """

    enabled: bool = True
    flush_interval_seconds: float = 10.0
    retention_days: int = 30
    minute_detail_hours: int = 48
    rules: tuple[AlertRule, ...] = field(default_factory=lambda: _rules({}))
    webhook_url: str | None = None
    source: str = "default"


_SCHEMA = "monitoring-config.schema.json"


def monitoring_schema() -> dict[str, Any]:
    """Return the monitoring file's JSON Schema shipped inside the package."""
    return packaged_schema(_SCHEMA)


def _rules(alerts: dict[str, Any]) -> tuple[AlertRule, ...]:
    latency = alerts.get("high_latency", {})
    errors = alerts.get("high_error_rate", {})
    memory = alerts.get("high_memory", {})
    return (
        AlertRule(
            "PosWorkflowHighLatency",
            "latency",
            float(latency.get("p95_seconds", 1.0)),
            window_seconds=int(latency.get("window_seconds", 300)),
            min_calls=int(latency.get("min_calls", 10)),
            enabled=bool(latency.get("enabled", True)),
        ),
        AlertRule(
            "PosWorkflowHighErrorRate",
            "error_rate",
            float(errors.get("ratio", 0.05)),
            window_seconds=int(errors.get("window_seconds", 300)),
            min_calls=int(errors.get("min_calls", 10)),
            error_types=tuple(errors.get("error_types", ())),
            enabled=bool(errors.get("enabled", True)),
        ),
        AlertRule(
            "PosWorkflowHighMemory",
            "memory",
            float(memory.get("rss_mb", 100)) * MB,
            window_seconds=0,
            min_calls=0,
            enabled=bool(memory.get("enabled", True)),
        ),
    )


def load_monitoring_config(
    project_root: str | os.PathLike[str], environ: Mapping[str, str] = os.environ
) -> MonitoringConfig:
    """Read and check ``<project_root>/.praxis-os/config/monitoring.json``.

    Args:
        project_root: The project whose monitoring file is read.

    Returns:
        The settings; the defaults when the file does not exist.

    Raises:
        MonitoringConfigError: The file cannot be read, is not JSON or violates the
            schema; the message names the file relative to the project and each problem.
    """
    path = Path(project_root) / MONITORING_FILE
    if not path.exists() and not path.is_symlink():
        return MonitoringConfig(webhook_url=_webhook(None, environ))
    data = read_config_json(path, MONITORING_FILE, MonitoringConfigError)
    mismatch = schema_mismatch(_SCHEMA, data)
    if mismatch is not None:
        raise MonitoringConfigError(MONITORING_FILE, mismatch)
    retention = data.get("retention", {})
    alerts = data.get("alerts", {})
    return MonitoringConfig(
        enabled=bool(data.get("enabled", True)),
        flush_interval_seconds=float(data.get("flush_interval_seconds", 10.0)),
        retention_days=int(retention.get("days", 30)),
        minute_detail_hours=int(retention.get("minute_detail_hours", 48)),
        rules=_rules(alerts),
        webhook_url=_webhook(alerts.get("webhook_url"), environ),
        source=MONITORING_FILE,
    )


def _webhook(from_project: str | None, environ: Mapping[str, str]) -> str | None:
    """The webhook alerts go to: the operator's, else the project's only when allowed."""
    if environ.get(WEBHOOK_ENV):
        return environ[WEBHOOK_ENV]
    if from_project and environ.get(ALLOW_PROJECT_WEBHOOK_ENV) != "1":
        logger.warning(
            "%s names alerts.webhook_url, which is not used: set %s=1 to let this project's "
            "file choose where the server posts alerts, or %s=URL",
            MONITORING_FILE,
            ALLOW_PROJECT_WEBHOOK_ENV,
            WEBHOOK_ENV,
        )
        return None
    return from_project
