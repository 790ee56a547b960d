"""`litellm_settings.max_budget` with `budget_duration`: one budget for every model call the
proxy serves, whoever makes it (the master key too), reset on the calendar boundaries of
the duration as every other budget is. Once the window's spend reaches it, model calls are
refused with `budget_exceeded` until the window ends; management and `/v1/models` still
answer.

LiteLLM keeps this total on a user row named `litellm-proxy-budget`. Here the window's
spend comes from the spend logs when first needed, then counts on per request
(`windows.py`): shared by every replica and worker with Redis, per process without.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.budgets.windows import LocalSpendWindows, SpendWindows, spent_since, window_of
from gateway.hooks import CallRecord
from gateway.limits.errors import BUDGET_EXCEEDED_STATUS, budget_exceeded
from gateway.spend.prices import PriceTable
from gateway.store.database import Database

SCOPE = "proxy"


@dataclass
class ProxyBudgetHook:
    max_budget: float
    budget_duration: str
    prices: PriceTable
    db: Database
    windows: SpendWindows = field(default_factory=LocalSpendWindows)
    budget_status: int = BUDGET_EXCEEDED_STATUS  # litellm_settings.budget_exceeded_status_code

    async def pre_call(self, record: CallRecord) -> None:
        now = datetime.now(UTC)
        window = window_of(SCOPE, self.budget_duration, now)

        async def load() -> float:
            return await spent_since(self.db, window.starts_at)

        spent = await self.windows.spent(window, load)
        if spent >= self.max_budget:
            raise budget_exceeded(
                "the proxy (litellm_settings.max_budget)",
                spent,
                0.0,
                self.max_budget,
                window.ends_at,
                now,
                self.budget_status,
            )

    async def post_call(self, record: CallRecord) -> None:
        window = window_of(SCOPE, self.budget_duration, datetime.now(UTC))
        await self.windows.add(window, self.prices.cost(record))
