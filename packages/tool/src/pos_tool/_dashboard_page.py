"""The dashboard page: one self-contained HTML file of a project's metrics.

uPlot, the page's script and its data are inline, so the page works offline and from a
file too. It renders the summary ``pos-workflow stats`` prints, charts of latency, error
rate, sessions and memory over time, the alerts firing and their history. Nothing here
imports a web framework: ``pos-workflow dashboard --output`` writes the page without
one; ``_dashboard`` serves it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ._defaults import DEFAULT_RANGE, RANGES
from ._monitor_config import MB, MonitoringConfig, load_monitoring_config
from ._stats import metrics_series, metrics_summary

__all__ = [
    "DASHBOARD_PATH",
    "UPLOT_VERSION",
    "content_security_policy",
    "dashboard_data",
    "render_dashboard",
]

DASHBOARD_PATH = "/dashboard"
"""Where the dashboard page is served; its data is at ``/dashboard/data``."""

UPLOT_VERSION = "1.6.32"
"""The bundled charting library (``pos_tool/assets/uplot``)."""

_REFRESH_SECONDS = 15


@cache
def _asset(name: str) -> str:
    return resources.files("pos_tool").joinpath(f"assets/{name}").read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML-significant characters)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def content_security_policy() -> str:
    """The page's CSP: nothing but its own two inline scripts, inline styles and same-origin fetches."""
    scripts = " ".join(
        _sha256(_asset(name)) for name in ("uplot/uPlot.iife.min.js", "dashboard.js")
    )
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; "
        "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def dashboard_data(
    project_root: str | os.PathLike[str],
    *,
    range_name: str = DEFAULT_RANGE,
    config: MonitoringConfig | None = None,
    live: bool = True,
    now: float | None = None,
) -> dict[str, Any]:
    """Everything the page renders, for one time range.

    Args:
        project_root: The project whose metrics file is read.
        range_name: One of :data:`RANGES`.
        config: The monitoring settings (default: the project's).
        live: The page refreshes itself from ``data?range=...`` (False: a snapshot file).
        now: The end of the range (default: the current time).
    """
    root = Path(project_root)
    config = config or load_monitoring_config(root)
    window = RANGES[range_name]
    now = datetime.now(UTC).timestamp() if now is None else now
    rules = {rule.kind: rule for rule in config.rules if rule.enabled}
    return {
        "project": root.resolve().name,
        "generated_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "range": range_name,
        "ranges": list(RANGES),
        "summary": metrics_summary(root, window_seconds=window, now=now, config=config),
        "series": metrics_series(root, window_seconds=window, now=now, config=config),
        "thresholds": {
            "latency_p95_ms": rules["latency"].threshold * 1000 if "latency" in rules else None,
            "error_rate_percent": rules["error_rate"].threshold * 100
            if "error_rate" in rules
            else None,
            "rss_mb": rules["memory"].threshold / MB if "memory" in rules else None,
        },
        "data_url": f"{DASHBOARD_PATH}/data?range={range_name}" if live else None,
        "refresh_seconds": _REFRESH_SECONDS if live else None,
    }


def render_dashboard(data: dict[str, Any]) -> str:
    """The dashboard page with ``data`` (from :func:`dashboard_data`) and every asset inline."""
    page = _asset("dashboard.html")
    for marker, text in (
        ("__UPLOT_CSS__", _asset("uplot/uPlot.min.css")),
        ("__DATA__", _script_json(data)),
        ("__UPLOT_JS__", _asset("uplot/uPlot.iife.min.js")),
        ("__APP_JS__", _asset("dashboard.js")),
    ):
        page = page.replace(marker, text, 1)
    return page
