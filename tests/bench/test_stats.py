from __future__ import annotations

import math

import pytest

from bench.stats import growth_percent, median, percentile, summarize


def test_percentile_interpolates_like_numpy_linear() -> None:
    samples = [1.0, 2.0, 3.0, 4.0]
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(samples, 50) == 2.5
    assert percentile(samples, 99) == pytest.approx(3.97)


def test_percentile_ignores_input_order() -> None:
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_percentile_rejects_out_of_range_q() -> None:
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_and_median() -> None:
    samples = [float(i) for i in range(1, 101)]
    summary = summarize(samples)
    assert summary.count == 100
    assert summary.p50 == median(samples) == 50.5
    assert summary.p99 == pytest.approx(99.01)
    assert summary.max == 100.0


def test_growth_percent() -> None:
    assert growth_percent(50.0, 52.5) == pytest.approx(5.0)
    assert growth_percent(50.0, 40.0) == pytest.approx(-20.0)
    with pytest.raises(ValueError):
        growth_percent(0.0, 1.0)
