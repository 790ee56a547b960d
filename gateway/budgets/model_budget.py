"""`model_max_budget` on a key: a budget per model group, optionally per window
(`{"gpt-4o": {"budget_limit": 0.5, "time_period": "1d"}}`, or `{"gpt-4o": 0.5}` for the
key's lifetime), checked before the call and counted after it.

The count starts from the spend logs the first time a key and model are met in a window, so
a restart does not forget what was spent; with Redis every replica and worker shares one
count (`windows.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.budgets.windows import LocalSpendWindows, SpendWindows, spent_since, window_of
from gateway.hooks import CallRecord
from gateway.keys.cache import EntityCache
from gateway.limits.errors import BUDGET_EXCEEDED_STATUS, budget_exceeded
from gateway.spend.prices import PriceTable
from gateway.store.database import Database
from gateway.store.tables import spend_logs


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
class ModelBudgetHook:
    cache: EntityCache
    prices: PriceTable
    db: Database
    windows: SpendWindows = field(default_factory=LocalSpendWindows)
    budget_status: int = BUDGET_EXCEEDED_STATUS  # litellm_settings.budget_exceeded_status_code

    def _limit(self, record: CallRecord) -> tuple[str, ModelLimit] | None:
        token = record.principal.token
        if token is None:
            return None
        key = self.cache.get("key", token)
        if key is None or not key.limits.model_max_budget:
            return None
        limit = ModelLimit.parse(key.limits.model_max_budget.get(record.model_group))
        return (token, limit) if limit is not None else None

    async def pre_call(self, record: CallRecord) -> None:
        found = self._limit(record)
        if found is None:
            return
        token, limit = found
        now = datetime.now(UTC)
        model = record.model_group
        window = window_of(f"model:{token}:{model}", limit.time_period, now)

        async def load() -> float:
            return await spent_since(
                self.db,
                window.starts_at,
                spend_logs.c.api_key == token,
                spend_logs.c.model_group == model,
            )

        spent = await self.windows.spent(window, load)
        if spent >= limit.budget_limit:
            key = self.cache.get("key", token)
            alias = key.alias if key is not None and key.alias else token[:12]
            raise budget_exceeded(
                f"key '{alias}' on model {model} (model_max_budget)",
                spent,
                0.0,
                limit.budget_limit,
                window.ends_at,
                now,
                self.budget_status,
            )

    async def post_call(self, record: CallRecord) -> None:
        found = self._limit(record)
        if found is None:
            return
        token, limit = found
        window = window_of(
            f"model:{token}:{record.model_group}", limit.time_period, datetime.now(UTC)
        )
        await self.windows.add(window, self.prices.cost(record))
