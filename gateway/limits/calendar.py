"""When a budget window ends, with LiteLLM's calendar semantics (UTC).

LiteLLM resets budgets on calendar boundaries rather than a fixed span after the last reset:
`1d`/`daily` at the next midnight, `7d`/`1w`/`weekly` on the next Monday at midnight,
`30d`/`1mo`/`monthly` on the first of the next month (`Nmo`: N months on), and `Ns`, `Nm`,
`Nh`, other `Nd` at the next multiple of that span counted from the start of the day.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gateway.limits.durations import DurationError

WORDS = {
    "daily": "1d",
    "weekly": "7d",
    "monthly": "1mo",
    "hourly": "1h",
    "minutely": "1m",
}
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo)\s*$")
_SPAN = {"s": 1, "m": 60, "h": 3600}


def normalize(duration: str) -> str:
    text = duration.strip().lower()
    return WORDS.get(text, text)


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1, day=1)


def next_reset_at(duration: str, now: datetime) -> datetime:
    """The end of the budget window that contains `now`."""
    now = now.astimezone(UTC)
    match = _PATTERN.match(normalize(duration))
    if match is None or int(match.group(1)) <= 0:
        raise DurationError(
            f"invalid duration {duration!r}: expected e.g. '30s', '1h', '1d', '7d', '1mo', "
            "'daily', 'weekly' or 'monthly'"
        )
    count, unit = int(match.group(1)), match.group(2)
    today = _midnight(now)
    if unit == "mo" or (unit == "d" and count == 30):
        return _add_months(today, count if unit == "mo" else 1)
    if (unit == "d" and count == 7) or unit == "w":
        weeks = count if unit == "w" else 1
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=weeks)
    if unit == "d":
        return today + timedelta(days=count)
    span = count * _SPAN[unit]
    elapsed = (now - today).total_seconds()
    return today + timedelta(seconds=(int(elapsed // span) + 1) * span)


def window_start_at(duration: str, now: datetime) -> datetime:
    """The start of the budget window that contains `now` (the boundary before it)."""
    end = next_reset_at(duration, now)
    now = now.astimezone(UTC)
    count, unit = _parts(duration)
    today = _midnight(now)
    if unit == "mo" or (unit == "d" and count == 30):
        return today.replace(day=1)
    if (unit == "d" and count == 7) or unit == "w":
        return today - timedelta(days=today.weekday())
    if unit == "d":
        return today
    return end - timedelta(seconds=count * _SPAN[unit])


def _parts(duration: str) -> tuple[int, str]:
    match = _PATTERN.match(normalize(duration))
    if match is None:
        raise DurationError(f"invalid duration {duration!r}")
    return int(match.group(1)), match.group(2)
