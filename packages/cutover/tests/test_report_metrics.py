"""The validation report shows the production metrics recorded since the cutover began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pos_cutover._backup import Backup
from pos_cutover._report import build_report
from pos_tool import AlertRule, Monitor, MonitoringConfig

PLAN = {
    "name": "default",
    "groups": {"remove": ["workflow_legacy"], "add": ["workflow"], "keep": ["server_info"]},
    "expected_tools": {"before": 9, "after": 3},
}


def _backup(project: Path, started: datetime) -> Backup:
    path = project / ".praxis-os" / "backups" / "cutover-test"
    path.mkdir(parents=True)
    return Backup(
        path=path,
        backup_id="cutover-test",
        created_at=started.isoformat(),
        registry_existed=False,
        registry_sha256=None,
        registry_mode=None,
        plan=PLAN,
        project_name=project.name,
    )


def test_the_report_shows_the_calls_recorded_since_the_cutover_began(tmp_path: Path) -> None:
    project = tmp_path / "project"
    backup = _backup(project, datetime.now(UTC) - timedelta(minutes=2))
    # Only the error-rate rule (with a minimum of one call): the test process's own
    # memory would make the memory alert fire.
    errors = AlertRule("PosWorkflowHighErrorRate", "error_rate", 0.05, min_calls=1)
    monitor = Monitor(project, config=MonitoringConfig(rules=(errors,)), background=False)
    for _ in range(3):
        monitor.record("pos_workflow", "start", 0.004, {"status": "success"})
    monitor.record(
        "pos_workflow", "get_state", 0.001, {"status": "error", "error_type": "NotFoundError"}
    )
    monitor.tick()

    report = build_report(backup, None, version="t")

    section = report.markdown.split("### Production metrics since the cutover\n")[1]
    assert section.splitlines()[2:8] == [
        "| action | calls | errors | p95 ms |",
        "|---|---|---|---|",
        "| `start` | 3 | 0 | 4.88 |",
        "| `get_state` | 1 | 1 | 0.95 |",
        "| all | 4 | 1 | 4.83 |",
        "",
    ]
    assert "- Error rate: 25.00%; checkpoints: 0 passed, 0 failed" in section
    assert "- Alerts: PosWorkflowHighErrorRate at " in section
    assert "(error rate 25.0% over the last 5 min (> 5%; 1 of 4 calls; all errors))" in section
    assert report.data["production_metrics"]["total"]["calls"] == 4


def test_without_a_metrics_file_the_report_says_none_were_recorded(tmp_path: Path) -> None:
    backup = _backup(tmp_path / "project", datetime.now(UTC))

    report = build_report(backup, None, version="t")

    assert (
        "### Production metrics since the cutover\n- none recorded since the cutover began\n"
        in report.markdown
    )
    assert report.data["production_metrics"] is None
