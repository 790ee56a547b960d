"""Request bodies of the management API, in LiteLLM's field names. Bodies are strict: a field
this gateway does not implement is a 400 naming it, never a silent 200 that applies nothing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_INT = 2**62  # stored as BIGINT

# Fields every budgeted entity accepts, and that map 1:1 to columns.
LIMIT_FIELDS = (
    "models",
    "max_budget",
    "budget_duration",
    "rpm_limit",
    "tpm_limit",
    "max_parallel_requests",
    "metadata",
    "blocked",
    "budget_id",
    "soft_budget",
    "model_max_budget",
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelBudget(_Body):
    budget_limit: float = Field(ge=0)
    time_period: str | None = None


class LimitFields(_Body):
    models: list[str] | None = None
    max_budget: float | None = Field(default=None, ge=0)
    budget_duration: str | None = None
    rpm_limit: int | None = Field(default=None, ge=0, le=MAX_INT)
    tpm_limit: int | None = Field(default=None, ge=0, le=MAX_INT)
    max_parallel_requests: int | None = Field(default=None, ge=1, le=MAX_INT)
    metadata: dict[str, Any] | None = None
    blocked: bool | None = None
    budget_id: str | None = None  # a /budget/new object: its limits apply
    soft_budget: float | None = Field(default=None, ge=0)  # alert only
    # {"model": 0.5} or {"model": {"budget_limit": 0.5, "time_period": "1d"}}
    model_max_budget: dict[str, float | ModelBudget] | None = None


class KeyFields(LimitFields):
    key_alias: str | None = None
    duration: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    tags: list[str] | None = None
    spend: float | None = Field(default=None, ge=0)


class GenerateKey(KeyFields):
    key: str | None = None  # LiteLLM lets an admin choose the key


class UpdateKey(KeyFields):
    key: str


class KeyRef(_Body):
    key: str


class RegenerateKey(KeyFields):
    key: str | None = None
    new_key: str | None = None


class DeleteKeys(_Body):
    keys: list[str] | None = None
    key_aliases: list[str] | None = None


class TeamFields(LimitFields):
    team_alias: str | None = None
    members_with_roles: list[dict[str, Any]] | None = None


class NewTeam(TeamFields):
    team_id: str | None = None


class UpdateTeam(TeamFields):
    team_id: str


class TeamRef(_Body):
    team_id: str


class DeleteTeams(_Body):
    team_ids: list[str]


class UserFields(LimitFields):
    user_email: str | None = None
    user_role: str | None = None
    user_alias: str | None = None
    teams: list[str] | None = None


class NewUser(UserFields):
    user_id: str | None = None
    auto_create_key: bool = True
    key_alias: str | None = None
    duration: str | None = None


class UpdateUser(UserFields):
    user_id: str


class DeleteUsers(_Body):
    user_ids: list[str]


class CustomerFields(LimitFields):
    alias: str | None = None


class NewCustomer(CustomerFields):
    user_id: str


class UpdateCustomer(CustomerFields):
    user_id: str


class CustomerIds(_Body):
    user_ids: list[str]
