from __future__ import annotations

import pytest

from bench import openloop
from bench.openloop import OpenLoopResult, schedule
from bench.targets import chat_request
from testing.fake_upstream.runner import serve_in_thread


def test_schedule_spaces_requests_evenly() -> None:
    offsets = schedule(rate=4, duration=1)
    assert offsets == [0.0, 0.25, 0.5, 0.75]


def test_schedule_count_is_rate_times_duration() -> None:
    assert len(schedule(rate=1000, duration=2.5)) == 2500
    assert schedule(rate=1000, duration=2.5)[-1] == pytest.approx(2.499)


def test_schedule_rejects_non_positive_input() -> None:
    with pytest.raises(ValueError):
        schedule(rate=0, duration=1)
    with pytest.raises(ValueError):
        schedule(rate=10, duration=-1)


def test_generator_keeping_up_is_judged_on_send_lag() -> None:
    on_time = OpenLoopResult(rate=100, duration=1, send_lags=[0.0001] * 100)
    late = OpenLoopResult(rate=100, duration=1, send_lags=[0.0001] * 90 + [0.05] * 10)
    assert on_time.generator_kept_up
    assert not late.generator_kept_up
    assert not OpenLoopResult(rate=100, duration=1).generator_kept_up


def test_open_loop_against_the_fake_upstream() -> None:
    with serve_in_thread() as url:
        port = int(url.rsplit(":", 1)[1])
        result = openloop.run(
            "127.0.0.1", port, chat_request(port, "size-200"), rate=200, duration=0.25
        )
    assert result.sent == 50
    assert result.errors == 0
    assert result.statuses == {200: 50}
    assert len(result.latencies) == 50
    assert all(latency > 0 for latency in result.latencies)
