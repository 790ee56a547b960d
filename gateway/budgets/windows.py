"""Spend counted per budget window, for the budgets that have no row of their own to carry a
running total: `model_max_budget` on a key (per key and model group) and the proxy-wide
`litellm_settings.max_budget`.

A window's count starts from the spend logs (what was spent in it before this process, or
this replica, first looked), then grows by what each request costs. `LocalSpendWindows`
keeps the count in this process; `RedisSpendWindows` (`redis_windows.py`, with Redis) keeps
one count for every replica and worker, and falls back to the local count while Redis is away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import func, select

from gateway.limits.calendar import next_reset_at, window_start_at
from gateway.store.database import UNAVAILABLE_ERRORS, Database
from gateway.store.tables import spend_logs

log = structlog.get_logger("toolrelay.budgets")

# What was spent in the window before counting started here, read from the spend logs.
LoadSpent = Callable[[], Awaitable[float]]


@dataclass(frozen=True, slots=True)
class Window:
    """One budget window of one scope. `starts_at`/`ends_at` None: the scope's lifetime."""

    scope: str
    starts_at: datetime | None
    ends_at: datetime | None

    @property
    def name(self) -> str:
        start = "life" if self.starts_at is None else str(int(self.starts_at.timestamp()))
        return f"{self.scope}:{start}"


def window_of(scope: str, period: str | None, now: datetime) -> Window:
    """The budget window of `scope` that holds `now`; without a period, its lifetime."""
    if not period:
        return Window(scope, None, None)
    return Window(scope, window_start_at(period, now), next_reset_at(period, now))


async def spent_since(db: Database, since: datetime | None, *conditions: Any) -> float:
    """The spend logs' total since `since` (all time: None) for rows matching `conditions`;
    0 with a warning when the store is down, so a budget never turns into an outage."""
    query = select(func.coalesce(func.sum(spend_logs.c.spend), 0.0)).where(*conditions)
    if since is not None:
        query = query.where(spend_logs.c.start_time >= since)
    try:
        async with db.engine.connect() as connection:
            return float((await connection.execute(query)).scalar() or 0.0)
    except UNAVAILABLE_ERRORS as exc:
        log.warning("budget window starts from 0: spend logs unavailable", error=repr(exc))
        return 0.0


class SpendWindows(Protocol):
    async def spent(self, window: Window, load: LoadSpent) -> float:
        """The window's spend so far (loaded on first sight)."""
        ...

    async def add(self, window: Window, cost: float) -> None:
        """Count a request's cost in a window `spent` has seen."""
        ...


@dataclass
class LocalSpendWindows:
    """The count of this process only. A window that ended is dropped when its scope's next
    window is first seen, so the table holds one window per scope."""

    _counts: dict[str, tuple[Window, float]] = field(default_factory=dict)

    async def spent(self, window: Window, load: LoadSpent) -> float:
        found = self._counts.get(window.scope)
        if found is not None and found[0] == window:
            return found[1]
        value = await load()
        self._counts[window.scope] = (window, value)
        return value

    def follow(self, window: Window, shared: float) -> None:
        """Take the shared figure, to count on from it if Redis goes away."""
        self._counts[window.scope] = (window, shared)

    async def add(self, window: Window, cost: float) -> None:
        found = self._counts.get(window.scope)
        if found is not None and found[0] == window:
            self._counts[window.scope] = (window, found[1] + cost)
