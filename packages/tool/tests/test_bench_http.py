"""The HTTP throughput benchmark (benchmarks/bench_http.py) runs end to end.

One short run against a real server process: every level of both client kinds answers,
with no error. Nothing here is timed; the figures are published, not tested.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_http.py"


@pytest.mark.slow
def test_a_short_run_drives_every_level_of_both_client_kinds_without_errors() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "0.5", "--clients", "1,2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)["rows"]
    assert [(row["via"], row["clients"]) for row in rows] == [
        ("sdk", 1),
        ("sdk", 2),
        ("raw", 1),
        ("raw", 2),
    ]
    for row in rows:
        assert row["errors"] == 0
        assert row["requests"] > 0
        assert row["req_per_s"] > 0
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert row["server_cpu_ms_per_req"] is None or row["server_cpu_ms_per_req"] > 0


@pytest.mark.slow  # a subprocess each
@pytest.mark.parametrize("argv", [["--clients", "0"], ["--via", "grpc"], ["--seconds", "0"]])
def test_bad_arguments_are_refused_before_a_server_starts(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
