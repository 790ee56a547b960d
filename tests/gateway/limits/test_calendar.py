"""Budget windows end on LiteLLM's calendar boundaries (UTC):
https://docs.litellm.ai/docs/proxy/users#budget-reset-times-and-timezones"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.limits.calendar import next_reset_at
from gateway.limits.durations import DurationError

NOW = datetime(2026, 1, 31, 15, 42, 10, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("1mo", datetime(2026, 2, 1, tzinfo=UTC)),
        ("monthly", datetime(2026, 2, 1, tzinfo=UTC)),
        ("30d", datetime(2026, 2, 1, tzinfo=UTC)),
        ("3mo", datetime(2026, 4, 1, tzinfo=UTC)),
        ("12mo", datetime(2027, 1, 1, tzinfo=UTC)),
        ("1d", datetime(2026, 2, 1, tzinfo=UTC)),
        ("daily", datetime(2026, 2, 1, tzinfo=UTC)),
        ("7d", datetime(2026, 2, 2, tzinfo=UTC)),  # the next Monday
        ("weekly", datetime(2026, 2, 2, tzinfo=UTC)),
        ("1w", datetime(2026, 2, 2, tzinfo=UTC)),
        ("2d", datetime(2026, 2, 2, tzinfo=UTC)),
        ("1h", datetime(2026, 1, 31, 16, tzinfo=UTC)),
        ("6h", datetime(2026, 1, 31, 18, tzinfo=UTC)),
        ("15m", datetime(2026, 1, 31, 15, 45, tzinfo=UTC)),
        ("30s", datetime(2026, 1, 31, 15, 42, 30, tzinfo=UTC)),
    ],
)
def test_windows_end_on_calendar_boundaries(duration: str, expected: datetime) -> None:
    assert next_reset_at(duration, NOW) == expected


def test_a_month_is_a_calendar_month_not_thirty_days() -> None:
    assert next_reset_at("1mo", datetime(2026, 2, 3, tzinfo=UTC)) == datetime(
        2026, 3, 1, tzinfo=UTC
    )
    assert next_reset_at("1mo", datetime(2026, 12, 31, 23, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize("bad", ["", "0d", "fortnightly", "1y", "-1d"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(DurationError):
        next_reset_at(bad, NOW)
