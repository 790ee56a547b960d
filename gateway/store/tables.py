"""The schema, as SQLAlchemy Core tables (the migrations create exactly these)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()


def _limits() -> list[Column[object]]:
    return [
        Column("models", JSON, nullable=False, default=list),
        Column("max_budget", Float, nullable=True),
        Column("spend", Float, nullable=False, default=0.0),
        Column("budget_duration", String(32), nullable=True),
        Column("budget_reset_at", DateTime(timezone=True), nullable=True),
        Column("rpm_limit", BigInteger, nullable=True),
        Column("tpm_limit", BigInteger, nullable=True),
        Column("max_parallel_requests", BigInteger, nullable=True),
        Column("metadata", JSON, nullable=False, default=dict),
        Column("blocked", Boolean, nullable=False, default=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        # revision 0002: LiteLLM's budget objects, soft budgets and per-model key budgets
        Column("budget_id", String(255), nullable=True),
        Column("soft_budget", Float, nullable=True),
        Column("model_max_budget", JSON, nullable=True),
    ]


virtual_keys = Table(
    "virtual_keys",
    metadata,
    Column("token", String(64), primary_key=True),  # sha256 hex of the key
    Column("key_name", String(64), nullable=False),  # "sk-...abcd", safe to show
    Column("key_alias", String(255), nullable=True, unique=True),
    Column("team_id", String(255), nullable=True, index=True),
    Column("user_id", String(255), nullable=True, index=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("expires", DateTime(timezone=True), nullable=True),
    *_limits(),
)

teams = Table(
    "teams",
    metadata,
    Column("team_id", String(255), primary_key=True),
    Column("team_alias", String(255), nullable=True),
    Column("members", JSON, nullable=False, default=list),
    *_limits(),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(255), primary_key=True),
    Column("user_email", String(255), nullable=True),
    Column("user_role", String(64), nullable=True),
    Column("user_alias", String(255), nullable=True),
    Column("teams", JSON, nullable=False, default=list),
    *_limits(),
)

end_users = Table(
    "end_users",
    metadata,
    Column("user_id", String(255), primary_key=True),
    Column("alias", String(255), nullable=True),
    *_limits(),
)

spend_logs = Table(
    "spend_logs",
    metadata,
    # Made when the request ends, so a batch retried after an unclear commit is not counted twice.
    Column("id", String(32), primary_key=True),
    Column("request_id", String(128), nullable=False, index=True),
    Column("call_type", String(32), nullable=False),
    Column("api_key", String(64), nullable=True, index=True),
    Column("key_alias", String(255), nullable=True),
    Column("team_id", String(255), nullable=True),
    Column("user_id", String(255), nullable=True),
    Column("end_user", String(255), nullable=True),
    Column("model_group", String(255), nullable=False),
    Column("model", String(255), nullable=True),
    Column("deployment_id", String(255), nullable=True),
    Column("provider", String(64), nullable=True),
    Column("prompt_tokens", BigInteger, nullable=False, default=0),
    Column("completion_tokens", BigInteger, nullable=False, default=0),
    Column("total_tokens", BigInteger, nullable=False, default=0),
    Column("cached_tokens", BigInteger, nullable=False, default=0),
    Column("spend", Float, nullable=False, default=0.0),
    Column("start_time", DateTime(timezone=True), nullable=False, index=True),
    Column("end_time", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("http_status", Integer, nullable=False),
    Column("cache_hit", Boolean, nullable=False, default=False),
    Column("stream", Boolean, nullable=False, default=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("mcp_tool", String(255), nullable=True),
    # revision 0004: general_settings.store_prompts_in_spend_logs (NULL when off)
    Column("proxy_server_request", JSON(none_as_null=True), nullable=True),
    Column("response", JSON(none_as_null=True), nullable=True),
)

# revision 0004: with general_settings.disable_spend_logs a request leaves no spend-log row,
# only its id here, so that a batch written again (after an unclear commit, or replayed from
# the journal or the spend stream) still counts once. Kept for `CLAIM_TTL` (spend/claims.py).
spend_claims = Table(
    "spend_claims",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("start_time", DateTime(timezone=True), nullable=False, index=True),
)

# Rollups keep reports fast and survive the spend-log retention window. Dimensions use ""
# instead of NULL so that the unique constraint (and ON CONFLICT) works on both databases.
daily_spend = Table(
    "daily_spend",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("api_key", String(64), nullable=False),
    Column("team_id", String(255), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("end_user", String(255), nullable=False),
    Column("model_group", String(255), nullable=False),
    Column("spend", Float, nullable=False, default=0.0),
    Column("prompt_tokens", BigInteger, nullable=False, default=0),
    Column("completion_tokens", BigInteger, nullable=False, default=0),
    Column("requests", BigInteger, nullable=False, default=0),
    Column("failures", BigInteger, nullable=False, default=0),
    UniqueConstraint(
        "day", "api_key", "team_id", "user_id", "end_user", "model_group", name="uq_daily_spend"
    ),
)

daily_tag_spend = Table(
    "daily_tag_spend",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("tag", String(255), nullable=False),
    Column("spend", Float, nullable=False, default=0.0),
    Column("requests", BigInteger, nullable=False, default=0),
    UniqueConstraint("day", "tag", name="uq_daily_tag_spend"),
)

Index("ix_daily_spend_day", daily_spend.c.day)

# Models added at runtime (`store_model_in_db`). Secret litellm_params are stored encrypted
# (gateway.model_store.secrets); the row is otherwise LiteLLM's LiteLLM_ProxyModelTable.
proxy_models = Table(
    "proxy_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column("model_name", String(255), nullable=False, index=True),
    Column("litellm_params", JSON, nullable=False, default=dict),
    Column("model_info", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255), nullable=True),
)

# Provider credentials referenced by models through `litellm_credential_name`; every value
# in `credential_values` is encrypted.
credentials = Table(
    "credentials",
    metadata,
    Column("credential_name", String(255), primary_key=True),
    Column("credential_values", JSON, nullable=False, default=dict),
    Column("credential_info", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Budgets as objects that keys, users and teams reference by `budget_id` (LiteLLM_BudgetTable).
budgets = Table(
    "budgets",
    metadata,
    Column("budget_id", String(255), primary_key=True),
    Column("max_budget", Float, nullable=True),
    Column("soft_budget", Float, nullable=True),
    Column("budget_duration", String(32), nullable=True),
    Column("budget_reset_at", DateTime(timezone=True), nullable=True),
    Column("rpm_limit", BigInteger, nullable=True),
    Column("tpm_limit", BigInteger, nullable=True),
    Column("max_parallel_requests", BigInteger, nullable=True),
    Column("model_max_budget", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
