"""Bodies of `/budget/*`, LiteLLM's `BudgetNewRequest` and friends (strict)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.keys.wire import MAX_INT, ModelBudget

# What a budget object sets on the keys, teams and users that reference it.
BUDGET_LIMITS = (
    "max_budget",
    "soft_budget",
    "budget_duration",
    "rpm_limit",
    "tpm_limit",
    "max_parallel_requests",
    "model_max_budget",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BudgetFields(_Strict):
    max_budget: float | None = Field(default=None, ge=0)
    soft_budget: float | None = Field(default=None, ge=0)
    budget_duration: str | None = None
    rpm_limit: int | None = Field(default=None, ge=0, le=MAX_INT)
    tpm_limit: int | None = Field(default=None, ge=0, le=MAX_INT)
    max_parallel_requests: int | None = Field(default=None, ge=1, le=MAX_INT)
    model_max_budget: dict[str, float | ModelBudget] | None = None


class NewBudget(BudgetFields):
    budget_id: str | None = Field(default=None, min_length=1, max_length=255)


class UpdateBudget(BudgetFields):
    budget_id: str = Field(min_length=1, max_length=255)


class BudgetIds(_Strict):
    budgets: list[str]


class DeleteBudget(_Strict):
    id: str = Field(min_length=1)
