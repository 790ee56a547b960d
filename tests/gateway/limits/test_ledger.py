"""The ledger's limits, exact at their edges: rpm, tpm, parallel, budgets and their reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import BudgetExceededError
from gateway.limits.durations import DurationError, parse_duration
from gateway.limits.errors import LimitExceededError
from gateway.limits.ledger import Check, MemoryLedger

NOW = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)


def test_rpm_admits_exactly_n_in_its_window_then_resets() -> None:
    ledger = MemoryLedger()
    check = Check(kind="key", id="k", rpm_limit=3)
    for _ in range(3):
        ledger.settle(ledger.admit([check], 0.0, 0, NOW), 0.0, 0)
    with pytest.raises(LimitExceededError) as refused:
        ledger.admit([check], 0.0, 0, NOW + timedelta(seconds=40))
    assert refused.value.code == "rate_limit_exceeded"
    assert "rpm limit 3" in refused.value.message
    assert refused.value.headers["retry-after"] == "10"  # at 12:00:50, resets at 12:01:00
    ledger.admit([check], 0.0, 0, NOW + timedelta(minutes=1))


def test_tpm_counts_reserved_and_used_tokens() -> None:
    ledger = MemoryLedger()
    check = Check(kind="key", id="k", tpm_limit=100)
    first = ledger.admit([check], 0.0, 60, NOW)
    second = ledger.admit([check], 0.0, 30, NOW)
    third = ledger.admit([check], 0.0, 30, NOW)  # 90 < 100: admitted, now 120 reserved
    with pytest.raises(LimitExceededError):
        ledger.admit([check], 0.0, 1, NOW)
    for reservation in (first, second, third):
        ledger.settle(reservation, 0.0, 5)
    assert ledger.remaining(check, NOW) == (None, 85)


def test_parallel_limit_released_on_settle_exactly_once() -> None:
    ledger = MemoryLedger()
    check = Check(kind="team", id="t", max_parallel_requests=2)
    held = [ledger.admit([check], 0.0, 0, NOW) for _ in range(2)]
    with pytest.raises(LimitExceededError) as refused:
        ledger.admit([check], 0.0, 0, NOW)
    assert refused.value.code == "parallel_request_limit_exceeded"
    ledger.settle(held[0], 0.0, 0)
    ledger.settle(held[0], 0.0, 0)  # a second settle changes nothing
    ledger.admit([check], 0.0, 0, NOW)
    with pytest.raises(LimitExceededError):
        ledger.admit([check], 0.0, 0, NOW)


def test_budget_counts_in_flight_reservations_and_resets_by_duration() -> None:
    ledger = MemoryLedger()
    check = Check(kind="key", id="k", max_budget=2.0, budget_duration="30s")
    a = ledger.admit([check], 1.0, 0, NOW)
    b = ledger.admit([check], 1.0, 0, NOW)
    with pytest.raises(BudgetExceededError) as refused:
        ledger.admit([check], 1.0, 0, NOW)  # 0 spent + 2 in flight
    assert refused.value.code == "budget_exceeded"
    assert refused.value.status_code == 422  # LiteLLM's default: a retry will not help
    # LiteLLM's calendar windows: 30 s windows end on :00 and :30, so 12:00:10 waits 20 s.
    assert refused.value.headers["retry-after"] == "20"
    ledger.settle(a, 1.5, 0)
    ledger.settle(b, 1.5, 0)
    assert ledger.spend(check.ref) == 3.0
    with pytest.raises(BudgetExceededError):
        ledger.admit([check], 0.0, 0, NOW + timedelta(seconds=19))
    ledger.admit([check], 0.0, 0, NOW + timedelta(seconds=21))
    assert ledger.spend(check.ref) == 0.0


def test_a_refusal_reserves_nothing() -> None:
    ledger = MemoryLedger()
    key = Check(kind="key", id="k", rpm_limit=10)
    team = Check(kind="team", id="t", max_budget=0.0)
    with pytest.raises(BudgetExceededError):
        ledger.admit([key, team], 1.0, 5, NOW)
    assert ledger.remaining(key, NOW) == (10, None)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86400), ("30d", 2592000), ("1mo", 2592000)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0d", "1y", "d", "-1h"])
def test_bad_durations_are_clear_errors(text: str) -> None:
    with pytest.raises(DurationError, match="expected a number and a unit"):
        parse_duration(text)
