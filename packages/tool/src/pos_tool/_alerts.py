"""The embedded alerts: rules evaluated by every server over its own calls and memory.

Each rule measures one value at every flush (p95 latency and error rate over the
rule's window of this process's calls; the process's resident memory now) and
compares it with its threshold. A change is an :class:`AlertEvent`: logged to
stderr, written to the metrics file (the dashboard's alert list), shown by
``get_server_info`` and, when a webhook URL is configured, POSTed in the
Alertmanager webhook format so the receivers people already run accept it.

The same three alerts exist as Prometheus rules in ``deploy/prometheus/alerts.yml``
(per ``instance``, the same thresholds and windows).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from ._metrics import Histogram, merged
from ._metrics_store import AlertEvent
from ._monitor_config import MB, AlertRule

__all__ = ["AlertEvaluator", "WindowView", "alertmanager_payload", "post_webhook"]

logger = logging.getLogger("pos_tool.alerts")

WindowView = Callable[
    [float], tuple[dict[tuple[str, str], Histogram], Counter[tuple[str, str, str]]]
]
"""Returns this process's calls (by tool/action) and errors (by tool/action/type) in the last N seconds."""

_WEBHOOK_TIMEOUT_SECONDS = 5.0


def _span(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def _latency(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def _label(tool: str, action: str) -> str:
    return action if tool == "pos_workflow" else f"{tool} (legacy)"


class AlertEvaluator:
    """Keeps the state of each rule and reports its changes.

    Args:
        rules: The rules (disabled ones are skipped).
    """

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self.rules = tuple(rule for rule in rules if rule.enabled)
        self.firing: dict[str, AlertEvent] = {}
        self._values: dict[str, float | None] = {}

    @property
    def longest_window(self) -> float:
        """The longest window any rule looks back over (seconds)."""
        return max((rule.window_seconds for rule in self.rules), default=0)

    def _measure(
        self, rule: AlertRule, window: WindowView, rss: float | None
    ) -> tuple[float | None, str]:
        """The rule's value now (None: not measurable) and a sentence describing it."""
        if rule.kind == "memory":
            if rss is None:
                return None, ""
            return rss, (
                f"resident memory {rss / MB:.1f} MB > {rule.threshold / MB:g} MB"
                if rss > rule.threshold
                else f"resident memory {rss / MB:.1f} MB"
            )
        by_call, errors = window(rule.window_seconds)
        total = merged(by_call.values())
        span = _span(rule.window_seconds)
        if total.count < rule.min_calls:
            return None, f"{total.count} calls in the last {span} (fewer than {rule.min_calls})"
        if rule.kind == "latency":
            value = total.quantile(0.95) or 0.0
            slowest = max(by_call.items(), key=lambda kv: kv[1].quantile(0.95) or 0.0)
            (tool, action), histogram = slowest
            return value, (
                f"p95 latency {_latency(value)} over the last {span} "
                f"({'>' if value > rule.threshold else '<='} {rule.threshold:g} s; "
                f"{total.count} calls; slowest {_label(tool, action)} "
                f"p95 {_latency(histogram.quantile(0.95) or 0.0)})"
            )
        counted = sum(
            count
            for (_, _, error_type), count in errors.items()
            if not rule.error_types or error_type in rule.error_types
        )
        value = counted / total.count
        kinds = ", ".join(rule.error_types) if rule.error_types else "all errors"
        return value, (
            f"error rate {value:.1%} over the last {span} "
            f"({'>' if value > rule.threshold else '<='} {rule.threshold:.0%}; "
            f"{counted} of {total.count} calls; {kinds})"
        )

    def evaluate(self, now: float, window: WindowView, rss: float | None) -> list[AlertEvent]:
        """Measure every rule at ``now``; return the alerts that fired or resolved."""
        events = []
        for rule in self.rules:
            value, summary = self._measure(rule, window, rss)
            self._values[rule.name] = value
            active = self.firing.get(rule.name)
            if value is not None and value > rule.threshold and active is None:
                event = AlertEvent(rule.name, "firing", now, value, rule.threshold, summary, now)
                self.firing[rule.name] = event
                events.append(event)
                logger.warning("alert firing: %s: %s", rule.name, summary)
            elif active is not None and (value is None or value <= rule.threshold):
                del self.firing[rule.name]
                resolved_value = value if value is not None else 0.0
                events.append(
                    AlertEvent(
                        rule.name,
                        "resolved",
                        now,
                        resolved_value,
                        rule.threshold,
                        summary,
                        active.fired_at,
                    )
                )
                logger.warning("alert resolved: %s: %s", rule.name, summary)
        return events

    def resolve_all(self, now: float, reason: str) -> list[AlertEvent]:
        """Resolve every firing alert (the server is stopping); return the events."""
        events = [
            AlertEvent(name, "resolved", now, a.value, a.threshold, reason, a.fired_at)
            for name, a in self.firing.items()
        ]
        for event in events:
            logger.warning("alert resolved: %s: %s", event.alert, reason)
        self.firing.clear()
        return events

    def values(self) -> dict[str, float | None]:
        """The value each rule measured at the last evaluation (None: not measurable)."""
        return dict(self._values)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def alertmanager_payload(event: AlertEvent, *, project: str, server: str) -> dict[str, Any]:
    """The webhook body for ``event``, in Alertmanager's webhook format (version 4)."""
    labels = {
        "alertname": event.alert,
        "severity": "warning",
        "project": project,
        "instance": server,
        "service": "pos-workflow",
    }
    annotations = {
        "summary": event.summary,
        "value": f"{event.value:g}",
        "threshold": f"{event.threshold:g}",
    }
    alert = {
        "status": event.state,
        "labels": labels,
        "annotations": annotations,
        "startsAt": _iso(event.fired_at),
        "endsAt": _iso(event.at) if event.state == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": f"{event.alert}:{server}",
    }
    return {
        "version": "4",
        "status": event.state,
        "receiver": "pos-workflow",
        "groupKey": f"{project}/{event.alert}",
        "truncatedAlerts": 0,
        "groupLabels": {"alertname": event.alert},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [alert],
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answer that redirects is a failed delivery, not a request to elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 - the schema allows only http(s) URLs
        url,
        data=body,
        headers={"Content-Type": "application/json", "User-Agent": "pos-workflow-alerts"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=_WEBHOOK_TIMEOUT_SECONDS) as answer:
            answer.read(1024)
    except Exception as exc:
        logger.warning("alert webhook delivery failed: %s", type(exc).__name__ + f": {exc}")


def post_webhook(url: str, payload: dict[str, Any]) -> threading.Thread:
    """POST ``payload`` as JSON to ``url`` in a background thread; failures are logged.

    Returns:
        The delivering thread (join it to wait for the delivery).
    """
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    thread = threading.Thread(
        target=_post, args=(url, body), name="pos-workflow-alert-webhook", daemon=True
    )
    thread.start()
    return thread
