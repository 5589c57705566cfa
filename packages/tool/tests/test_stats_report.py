"""The stats report and the monitoring commands, in-process (``pos_tool.cli.main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pos_tool import AlertRule, Monitor, MonitoringConfig, parse_faults
from pos_tool.cli import main

ERRORS = AlertRule("PosWorkflowHighErrorRate", "error_rate", 0.05, min_calls=2)


def _traffic(project: Path) -> tuple[Monitor, Monitor]:
    """A stopped server whose error alert fired and resolved; a running one with it firing."""
    config = MonitoringConfig(rules=(ERRORS,))
    stopped = Monitor(project, config=config, background=False)
    stopped.watch_sessions(
        lambda: [("active", "test_generation_v3"), ("paused", "spec_creation_v1")]
    )
    stopped.start()
    for _ in range(3):
        stopped.record("pos_workflow", "start", 0.004, {"status": "success"})
    stopped.record(
        "start_workflow", "start", 0.02, {"status": "error", "error_type": "ConflictError"}
    )
    stopped.close()
    running = Monitor(project, config=config, background=False)
    running.start()
    running.record(
        "pos_workflow", "get_state", 0.001, {"status": "error", "error_type": "NotFoundError"}
    )
    running.record("pos_workflow", "get_state", 0.001, {"status": "success"})
    running.tick()
    return stopped, running


def test_stats_reports_actions_sessions_servers_and_alerts(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped, running = _traffic(project)

    code = main(["stats", "--project-root", str(project), "--since", "30m"])
    out = capsys.readouterr().out.splitlines()
    running.close()

    assert code == 0
    assert out[0].startswith("pos_workflow metrics of project 'project': last 30 min, ")
    assert out[2:7] == [
        "action                   calls  errors  error %  mean ms  p50 ms  p95 ms  p99 ms",
        "start                        3       0     0.00     4.00    3.75    4.88    4.98",
        "get_state                    2       1    50.00     1.00    0.50    0.95    0.99",
        "start_workflow (legacy)      1       1   100.00    20.00   17.50   24.25   24.85",
        "all                          6       2    33.33     5.67    3.33   20.50   24.10",
    ]
    rest = out[8:]
    assert rest[:4] == [
        "",
        "errors by type: ConflictError 1, NotFoundError 1",
        "checkpoints: 0 passed, 0 failed",
        rest[3],
    ]
    assert rest[3].startswith("sessions (sampled ") and rest[3].endswith(
        "active 1, paused 1, completed 0, failed 0, awaiting_approval 0"
    )
    assert rest[4] == "  by workflow: spec_creation_v1 1, test_generation_v3 1"
    assert rest[5].startswith(f"server {running.server.server} (running, version ")
    assert rest[6].startswith(f"server {stopped.server.server} (stopped, version ")
    assert rest[7].startswith("alerts firing: PosWorkflowHighErrorRate since ")
    assert rest[7].endswith("error rate 50.0% over the last 5 min (> 5%; 1 of 2 calls; all errors)")
    # A resolved alert: when it fired, when it resolved (its server stopped), and why it fired.
    assert rest[8].startswith("  PosWorkflowHighErrorRate: ") and " to " in rest[8]
    assert rest[8].endswith("error rate 25.0% over the last 5 min (> 5%; 1 of 4 calls; all errors)")


def test_stats_json_carries_the_same_summary(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, running = _traffic(project)

    main(["stats", "--project-root", str(project), "--json"])
    summary = json.loads(capsys.readouterr().out)
    running.close()

    assert (summary["available"], summary["total"]["calls"], summary["total"]["errors"]) == (
        True,
        6,
        2,
    )
    assert [a["firing"] for a in summary["alerts"]["history"]] == [True, False]
    assert summary["alerts"]["firing"] == summary["alerts"]["history"][:1]


def test_stats_of_an_empty_period_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Monitor(project, background=False).tick()

    main(["stats", "--project-root", str(project)])
    out = capsys.readouterr().out

    assert "no tool calls recorded in this period" in out
    assert "sessions: not sampled in this period" in out


def test_a_bad_monitoring_file_stops_stats_and_dashboard_with_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".praxis-os" / "config").mkdir(parents=True)
    (project / ".praxis-os" / "config" / "monitoring.json").write_text("[]")
    Monitor(project, background=False).tick()

    codes = [
        main(["stats", "--project-root", str(project)]),
        main(["dashboard", "--project-root", str(project)]),
    ]
    err = capsys.readouterr().err.splitlines()

    assert codes == [2, 2]
    assert err[0] == (
        "pos-workflow: cannot read the metrics: .praxis-os/config/monitoring.json: does not "
        "match specs/monitoring-config.schema.json: (top level): [] is not of type 'object'"
    )
    assert err[2].startswith("pos-workflow: cannot show the dashboard: ")


def test_dashboard_output_in_process_writes_the_page(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, running = _traffic(project)
    page = tmp_path / "page.html"

    code = main(["dashboard", "--project-root", str(project), "--output", str(page)])
    running.close()

    assert (code, capsys.readouterr().out) == (0, f"pos-workflow dashboard: wrote {page}\n")
    assert '"label":"start_workflow (legacy)"' in page.read_text(encoding="utf-8")


def test_serve_refuses_faults_when_metrics_are_off(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".praxis-os" / "config").mkdir(parents=True)
    (project / ".praxis-os" / "config" / "monitoring.json").write_text(
        '{"version": 1, "enabled": false}'
    )

    code = main(["serve", "--project-root", str(project), "--inject-faults", "errors=1"])

    assert code == 2
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "pos-workflow: cannot start: fault injection needs metrics, which "
        ".praxis-os/config/monitoring.json turns off",
        "  fix: remove --inject-faults and $POS_WORKFLOW_FAULTS, or set enabled to true",
    ]
    assert parse_faults("errors=1").describe() == "errors=1"
