"""`model_max_budget` on a key: a budget per model group, optionally per window
(`{"gpt-4o": {"budget_limit": 0.5, "time_period": "1d"}}`, or `{"gpt-4o": 0.5}` for the
key's lifetime), checked before the call and counted after it.

Each replica counts the spend it sees, seeded from the spend logs the first time it meets a
key and model in a window, so a restart does not forget what was spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import func, select

from gateway.hooks import CallRecord
from gateway.keys.cache import EntityCache
from gateway.limits.calendar import next_reset_at, window_start_at
from gateway.limits.errors import budget_exceeded
from gateway.spend.prices import PriceTable
from gateway.store.database import UNAVAILABLE_ERRORS, Database
from gateway.store.tables import spend_logs

log = structlog.get_logger("toolrelay.budgets")


@dataclass(frozen=True)
class ModelLimit:
    budget_limit: float
    time_period: str | None = None

    @classmethod
    def parse(cls, value: Any) -> ModelLimit | None:
        if isinstance(value, int | float):
            return cls(float(value))
        if isinstance(value, dict) and value.get("budget_limit") is not None:
            return cls(float(value["budget_limit"]), value.get("time_period") or None)
        return None


@dataclass
class _Window:
    spend: float
    resets_at: datetime | None


@dataclass
class ModelBudgetHook:
    cache: EntityCache
    prices: PriceTable
    db: Database
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)

    def _limit(self, record: CallRecord) -> tuple[str, ModelLimit] | None:
        token = record.principal.token
        if token is None:
            return None
        key = self.cache.get("key", token)
        if key is None or not key.limits.model_max_budget:
            return None
        limit = ModelLimit.parse(key.limits.model_max_budget.get(record.model_group))
        return (token, limit) if limit is not None else None

    async def _window(self, token: str, model: str, limit: ModelLimit, now: datetime) -> _Window:
        window = self._windows.get((token, model))
        if window is not None and (window.resets_at is None or now < window.resets_at):
            return window
        period = limit.time_period
        start = window_start_at(period, now) if period else None
        window = _Window(
            spend=await self._spent(token, model, start),
            resets_at=next_reset_at(period, now) if period else None,
        )
        self._windows[(token, model)] = window
        return window

    async def _spent(self, token: str, model: str, since: datetime | None) -> float:
        query = select(func.coalesce(func.sum(spend_logs.c.spend), 0.0)).where(
            spend_logs.c.api_key == token, spend_logs.c.model_group == model
        )
        if since is not None:
            query = query.where(spend_logs.c.start_time >= since)
        try:
            async with self.db.engine.connect() as connection:
                return float((await connection.execute(query)).scalar() or 0.0)
        except UNAVAILABLE_ERRORS as exc:
            log.warning("model budget starts from 0: spend logs unavailable", error=repr(exc))
            return 0.0

    async def pre_call(self, record: CallRecord) -> None:
        found = self._limit(record)
        if found is None:
            return
        token, limit = found
        now = datetime.now(UTC)
        window = await self._window(token, record.model_group, limit, now)
        if window.spend >= limit.budget_limit:
            key = self.cache.get("key", token)
            alias = key.alias if key is not None and key.alias else token[:12]
            raise budget_exceeded(
                f"key '{alias}' on model {record.model_group} (model_max_budget)",
                window.spend,
                0.0,
                limit.budget_limit,
                window.resets_at,
                now,
            )

    async def post_call(self, record: CallRecord) -> None:
        found = self._limit(record)
        if found is None:
            return
        window = self._windows.get((found[0], record.model_group))
        if window is not None:
            window.spend += self.prices.cost(record)
