"""The monitoring file and the fault spec: read, checked against the schema, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pos_engine import ValidationError
from pos_tool import (
    AlertRule,
    MonitoringConfig,
    MonitoringConfigError,
    load_monitoring_config,
    monitoring_schema,
    parse_faults,
)

REPO = Path(__file__).resolve().parents[3]
MB = 1024 * 1024


def _write(project: Path, content: object) -> None:
    folder = project / ".praxis-os" / "config"
    folder.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (folder / "monitoring.json").write_text(text, encoding="utf-8")


def test_the_packaged_schema_equals_the_spec_byte_for_byte() -> None:
    packaged = resources.files("pos_tool").joinpath("schemas/monitoring-config.schema.json")

    assert packaged.read_bytes() == (REPO / "specs" / "monitoring-config.schema.json").read_bytes()
    Draft202012Validator.check_schema(monitoring_schema())


def test_without_a_file_the_plans_thresholds_apply(project: Path) -> None:
    assert load_monitoring_config(project) == MonitoringConfig(
        enabled=True,
        flush_interval_seconds=10.0,
        retention_days=30,
        minute_detail_hours=48,
        rules=(
            AlertRule("PosWorkflowHighLatency", "latency", 1.0, 300, 10),
            AlertRule("PosWorkflowHighErrorRate", "error_rate", 0.05, 300, 10),
            AlertRule("PosWorkflowHighMemory", "memory", 100 * MB, 0, 0),
        ),
        webhook_url=None,
        source="default",
    )


def test_every_setting_of_the_documented_example_is_read(project: Path) -> None:
    example = json.loads((REPO / "docs" / "examples" / "monitoring.json").read_text())
    _write(project, example)

    config = load_monitoring_config(project, {"POS_WORKFLOW_ALLOW_PROJECT_WEBHOOK": "1"})

    assert config == MonitoringConfig(
        enabled=True,
        flush_interval_seconds=15.0,
        retention_days=30,
        minute_detail_hours=72,
        rules=(
            AlertRule("PosWorkflowHighLatency", "latency", 1.0, 300, 20),
            AlertRule(
                "PosWorkflowHighErrorRate",
                "error_rate",
                0.05,
                600,
                10,
                error_types=("InternalError", "ConflictError"),
            ),
            AlertRule("PosWorkflowHighMemory", "memory", 150 * MB, 0, 0, enabled=True),
        ),
        webhook_url="http://127.0.0.1:9093/api/v2/pos-workflow",
        source=".praxis-os/config/monitoring.json",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            ".praxis-os/config/monitoring.json: is not valid JSON (line 1, column 2): "
            "Expecting property name enclosed in double quotes",
        ),
        (
            {"version": 1, "alerts": {"high_latency": {"p95_seconds": -1}}},
            ".praxis-os/config/monitoring.json: does not match specs/monitoring-config.schema.json: "
            "/alerts/high_latency/p95_seconds: -1 is less than or equal to the minimum of 0",
        ),
        (
            {"version": 1, "alerts": {"webhook_url": "file:///etc/passwd"}},
            ".praxis-os/config/monitoring.json: does not match specs/monitoring-config.schema.json: "
            "/alerts/webhook_url: 'file:///etc/passwd' does not match '^https?://[^\\\\s]+$'",
        ),
        (
            {"version": 1, "retention_days": 30},
            ".praxis-os/config/monitoring.json: does not match specs/monitoring-config.schema.json: "
            "(top level): Additional properties are not allowed ('retention_days' was unexpected)",
        ),
    ],
)
def test_an_unusable_file_is_an_error_naming_the_file_and_the_problem(
    project: Path, content: object, message: str
) -> None:
    _write(project, content)

    with pytest.raises(MonitoringConfigError) as caught:
        load_monitoring_config(project)

    assert caught.value.message == message
    assert "specs/monitoring-config.schema.json" in caught.value.remediation


@pytest.mark.slow
def test_the_server_refuses_to_start_on_an_unusable_file_with_exit_2(project: Path) -> None:
    _write(project, {"version": 2})

    result = subprocess.run(
        [sys.executable, "-m", "pos_tool", "serve", "--project-root", str(project)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.splitlines()[-2:] == [
        "pos-workflow: cannot start: .praxis-os/config/monitoring.json: does not match "
        "specs/monitoring-config.schema.json: /version: 1 was expected",
        "  fix: Fix the file so it validates against specs/monitoring-config.schema.json, "
        "or delete it to get the defaults (docs: Monitoring).",
    ]


# ------------------------------------------------------------------ faults


def test_a_fault_spec_names_latency_errors_and_memory() -> None:
    faults = parse_faults(" latency=1.5, errors=0.1 ,memory_mb=150")

    assert (faults.latency_seconds, faults.error_ratio, faults.memory_mb) == (1.5, 0.1, 150.0)
    assert faults.describe() == "latency=1.5,errors=0.1,memory_mb=150"
    assert not parse_faults(None) and not parse_faults("  ")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("slow=1", "fault 'slow=1' is not one of latency=SECONDS, errors=RATIO, memory_mb=MB"),
        ("errors=2", "fault errors='2' is not a number from 0 to 1"),
        ("latency=nan", "fault latency='nan' is not a number from 0 to 600"),
        ("latency=", "fault 'latency=' is not one of latency=SECONDS, errors=RATIO, memory_mb=MB"),
    ],
)
def test_a_bad_fault_spec_is_refused_with_what_is_allowed(spec: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_faults(spec)

    assert caught.value.message == message


def test_errors_are_injected_at_exactly_the_ratio_spread_evenly() -> None:
    faults = parse_faults("errors=0.3")

    failed = [n for n in range(1, 21) if faults.should_fail()]

    assert failed == [4, 7, 10, 14, 17, 20]


def test_a_project_file_cannot_choose_the_webhook_unless_the_operator_allows_it(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(project, {"version": 1, "alerts": {"webhook_url": "http://evil.example/x"}})

    plain = load_monitoring_config(project, {})
    allowed = load_monitoring_config(project, {"POS_WORKFLOW_ALLOW_PROJECT_WEBHOOK": "1"})
    operator = load_monitoring_config(project, {"POS_WORKFLOW_ALERT_WEBHOOK": "http://ops/hook"})

    assert (plain.webhook_url, allowed.webhook_url, operator.webhook_url) == (
        None,
        "http://evil.example/x",
        "http://ops/hook",
    )
    assert any("alerts.webhook_url, which is not used" in r.getMessage() for r in caplog.records)


def test_the_operators_webhook_applies_without_a_monitoring_file(project: Path) -> None:
    config = load_monitoring_config(project, {"POS_WORKFLOW_ALERT_WEBHOOK": "http://ops/hook"})

    assert config.webhook_url == "http://ops/hook"
