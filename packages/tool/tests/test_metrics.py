"""The in-memory recorder and the bucket quantile estimate."""

from __future__ import annotations

import math

import pytest
from pos_tool import LATENCY_BUCKETS
from pos_tool._metrics import Histogram, Recorder, bucket_quantile
from pos_tool.testing import FakeClock


def _histogram(*seconds: float) -> Histogram:
    histogram = Histogram()
    for value in seconds:
        histogram.add(value, error=False)
    return histogram


def test_a_latency_on_a_bucket_bound_counts_in_that_bucket() -> None:
    histogram = _histogram(0.001, 1.0, 1.0000001)

    assert histogram.buckets[LATENCY_BUCKETS.index(0.001)] == 1
    assert histogram.buckets[LATENCY_BUCKETS.index(1.0)] == 1
    assert histogram.buckets[LATENCY_BUCKETS.index(2.5)] == 1


def test_the_quantile_interpolates_inside_its_bucket_like_histogram_quantile() -> None:
    # Four calls in (0.01, 0.025]: the median's rank 2 of 4 lies halfway through it.
    histogram = _histogram(0.011, 0.012, 0.02, 0.024)

    assert histogram.quantile(0.5) == pytest.approx(0.0175)
    assert histogram.quantile(1.0) == pytest.approx(0.025)


def test_the_first_bucket_starts_at_zero() -> None:
    assert _histogram(0.0005, 0.0005).quantile(0.5) == pytest.approx(0.0005)


def test_a_quantile_among_calls_over_the_largest_bound_is_that_bound() -> None:
    assert _histogram(30.0, 40.0).quantile(0.95) == LATENCY_BUCKETS[-1]


def test_no_calls_have_no_quantile() -> None:
    assert bucket_quantile(0.95, [0] * (len(LATENCY_BUCKETS) + 1)) is None


def test_p95_is_over_one_second_exactly_when_more_than_5_percent_of_calls_are() -> None:
    fast = [0.2] * 95
    assert not _histogram(*fast, *[1.5] * 5).quantile(0.95) > 1.0  # type: ignore[operator]
    assert _histogram(*fast, *[1.5] * 6).quantile(0.95) > 1.0  # type: ignore[operator]


def test_the_recorder_groups_calls_by_minute_tool_and_action() -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    minute = int(clock.time()) // 60 * 60

    recorder.observe("pos_workflow", "start", 0.003)
    recorder.observe("pos_workflow", "start", 0.004, "ValidationError")
    clock.advance(60)
    recorder.observe("start_workflow", "start", 0.002, checkpoint=None)
    recorder.observe("pos_workflow", "complete_phase", 0.01, "ValidationError", checkpoint=False)
    batch = recorder.drain()

    assert {key: (h.count, h.errors) for key, h in batch.calls.items()} == {
        (minute, "pos_workflow", "start"): (2, 1),
        (minute + 60, "start_workflow", "start"): (1, 0),
        (minute + 60, "pos_workflow", "complete_phase"): (1, 1),
    }
    assert dict(batch.errors) == {
        (minute, "pos_workflow", "start", "ValidationError"): 1,
        (minute + 60, "pos_workflow", "complete_phase", "ValidationError"): 1,
    }
    assert dict(batch.checkpoints) == {(minute + 60, "failed"): 1}
    assert math.isclose(batch.calls[(minute, "pos_workflow", "start")].seconds, 0.007)


def test_drain_hands_out_each_call_once() -> None:
    recorder = Recorder(FakeClock())
    recorder.observe("pos_workflow", "get_state", 0.001)

    first, second = recorder.drain(), recorder.drain()

    assert (sum(h.count for h in first.calls.values()), bool(second)) == (1, False)
