"""LiteLLM's duration strings ("30s", "5m", "1h", "1d", "30d", "1mo") used by budgets,
key expiry and spend-log retention."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_PATTERN = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400}


class DurationError(ValueError):
    pass


_WORDS = {"daily": "1d", "weekly": "7d", "monthly": "1mo", "hourly": "1h", "minutely": "1m"}


def parse_duration(text: str) -> timedelta:
    """A fixed span (key expiry, retention); budget windows use `calendar.next_reset_at`."""
    match = _PATTERN.match(_WORDS.get(text.strip().lower(), text))
    if match is None or int(match.group(1)) <= 0:
        raise DurationError(
            f"invalid duration {text!r}: expected a number and a unit, e.g. '30s', '1h', '1d', '30d'"
        )
    return timedelta(seconds=int(match.group(1)) * _SECONDS[match.group(2)])


def next_reset(duration: str | None, start: datetime) -> datetime | None:
    return start + parse_duration(duration) if duration else None
