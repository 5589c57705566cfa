"""The metrics file: survives restarts, sums several processes, prunes by age, fails soft."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pos_tool import METRICS_FILE, MonitoringConfig, metrics_summary
from pos_tool._metrics_store import HOUR, MINUTE, MetricsStore
from pos_tool.testing import FakeClock

DAY = 86400


def _record(monitor: Any, count: int, action: str = "get_state", seconds: float = 0.002) -> None:
    for _ in range(count):
        monitor.record("pos_workflow", action, seconds, {"status": "success"})


def _rows(store: MetricsStore, resolution: int) -> list[tuple[int, str, int]]:
    return [(start, action, h.count) for start, _, action, h in store.calls(resolution, 0, 2**40)]


def test_metrics_survive_a_restart_and_add_up(
    project: Path, make_monitor: Any, clock: FakeClock
) -> None:
    first = make_monitor()
    first.start()
    _record(first, 3)
    first.close()
    clock.advance(5)
    second = make_monitor()
    second.start()
    _record(second, 2)
    second.close()
    summary = metrics_summary(project, now=clock.time())

    assert summary is not None
    assert [(a["action"], a["calls"]) for a in summary["actions"]] == [("get_state", 5)]
    assert [(s["server"], s["running"]) for s in summary["servers"]] == [
        (second.server.server, False),
        (first.server.server, False),
    ]


def test_the_metrics_folder_and_file_are_private_to_the_owner(project: Path, monitor: Any) -> None:
    monitor.tick()
    path = project / METRICS_FILE

    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_minute_detail_and_then_everything_is_pruned_past_its_retention(
    project: Path, monitor: Any, clock: FakeClock
) -> None:
    _record(monitor, 4)
    monitor.tick()
    store = monitor.store
    minute = int(clock.time()) // MINUTE * MINUTE
    hour = minute // HOUR * HOUR
    before = (_rows(store, MINUTE), _rows(store, HOUR))

    clock.advance(48 * HOUR + 2 * MINUTE)  # the minute bucket is now older than 48 h
    monitor.tick()
    after_two_days = (_rows(store, MINUTE), _rows(store, HOUR))
    clock.advance(28 * DAY + HOUR)  # all of the hour bucket is now older than 30 days
    monitor.tick()
    after_thirty_days = (_rows(store, MINUTE), _rows(store, HOUR))

    assert before == ([(minute, "get_state", 4)], [(hour, "get_state", 4)])
    assert after_two_days == ([], [(hour, "get_state", 4)])
    assert after_thirty_days == ([], [])
    assert (
        metrics_summary(project, window_seconds=31 * DAY, now=clock.time())["total"]["calls"] == 0
    )  # type: ignore[index]


def test_the_retention_is_configurable(project: Path, make_monitor: Any, clock: FakeClock) -> None:
    monitor = make_monitor(MonitoringConfig(retention_days=7, minute_detail_hours=1))
    _record(monitor, 1)
    monitor.tick()

    clock.advance(2 * HOUR)
    monitor.tick()
    after_two_hours = (_rows(monitor.store, MINUTE), len(_rows(monitor.store, HOUR)))
    clock.advance(7 * DAY)
    monitor.tick()

    assert after_two_hours == ([], 1)
    assert _rows(monitor.store, HOUR) == []


def test_an_unwritable_metrics_file_keeps_the_metrics_in_memory_until_it_can_be_written(
    project: Path, monitor: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = project / ".praxis-os" / "metrics"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    _record(monitor, 3)

    monitor.tick()
    problem = monitor.info()["storage_problem"]
    blocker.unlink()
    _record(monitor, 2)
    monitor.tick()
    summary = metrics_summary(project, now=clock.time())

    assert problem is not None and problem.startswith("FileExistsError")
    assert str(project) not in problem
    assert monitor.info()["storage_problem"] is None
    assert summary is not None and summary["total"]["calls"] == 5
    assert [r.getMessage() for r in caplog.records if r.name == "pos_tool.monitor"] == [
        f"metrics not written to {METRICS_FILE} ({problem}); kept in memory until it works"
    ]


@pytest.mark.slow
def test_a_file_that_is_not_a_metrics_database_is_reported_by_stats(project: Path) -> None:
    path = project / METRICS_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite" * 100)

    result = subprocess.run(
        [sys.executable, "-m", "pos_tool", "stats", "--project-root", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == (
        "pos-workflow: .praxis-os/metrics/metrics.db cannot be read "
        "(DatabaseError: file is not a database)\n"
    )


_WRITER = textwrap.dedent(
    """
    import sys
    from pos_tool import Monitor

    monitor = Monitor(sys.argv[1], background=False)
    for _ in range(40):
        for _ in range(25):
            monitor.record("pos_workflow", "get_state", 0.002, {"status": "success"})
        monitor.record("pos_workflow", "start", 0.01, {"status": "error", "error_type": "StateError"})
        monitor.tick()
    monitor.tick(stopping=True)
    """
)


@pytest.mark.slow
def test_several_server_processes_write_one_metrics_file_without_losing_a_count(
    project: Path,
) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(project)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [writer.communicate(timeout=120)[1].decode() for writer in writers]
    summary = metrics_summary(project)

    assert [writer.returncode for writer in writers] == [0, 0, 0, 0], errors
    assert errors == ["", "", "", ""]
    assert summary is not None
    assert [(a["action"], a["calls"], a["errors"]) for a in summary["actions"]] == [
        ("start", 4 * 40, 4 * 40),
        ("get_state", 4 * 40 * 25, 0),
    ]
    assert summary["errors_by_type"] == {"StateError": 160}
    assert len(summary["servers"]) == 4


def test_a_failing_tick_is_logged_and_the_server_still_starts_and_stops(
    monitor: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_flush: Any) -> None:
        raise RuntimeError("an error no one planned for")

    monkeypatch.setattr(monitor.store, "write", broken)

    monitor.start()
    monitor.close()

    failures = [r for r in caplog.records if r.getMessage() == "monitoring tick failed"]
    assert len(failures) == 2  # the first tick at start, the last one at stop
