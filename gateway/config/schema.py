"""The config file's wire shape: LiteLLM's `config.yaml` plus toolrelay's own sections.

Every model allows extra keys so that a LiteLLM config never fails to load; the loader
warns about the extras it does not use (see `loader.unknown_keys`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from common.tls import SslVerifySetting
from common.tracing.settings import TracingKeys
from gateway.limits.calendar import next_reset_at
from gateway.limits.durations import DurationError


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class LiteLLMParams(_Section):
    model: str
    api_key: str | None = None
    api_base: str | None = None
    api_version: str | None = None
    rpm: int | None = Field(default=None, ge=0)
    tpm: int | None = Field(default=None, ge=0)
    weight: float | None = Field(default=None, ge=0)
    order: int | None = None
    timeout: float | None = Field(default=None, gt=0)
    stream_timeout: float | None = Field(default=None, gt=0)
    max_parallel_requests: int | None = Field(default=None, ge=1)
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)
    organization: str | None = None
    extra_headers: dict[str, str] | None = None
    # TLS verification for this deployment's api_base host (common/tls.py)
    ssl_verify: SslVerifySetting | None = None


class ModelInfo(_Section):
    id: str | None = None
    mode: str | None = None
    base_model: str | None = None
    max_tokens: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    supports_function_calling: bool | None = None
    supports_vision: bool | None = None


class ModelEntry(_Section):
    model_name: str
    litellm_params: LiteLLMParams
    model_info: ModelInfo = Field(default_factory=ModelInfo)


class ModelGroupAlias(_Section):
    model: str
    hidden: bool = False  # served, but left out of /v1/models


class RetryPolicy(_Section):
    """LiteLLM's `RetryPolicy`: retries per error class (`gateway/router/retry_policy.py`)."""

    BadRequestErrorRetries: int | None = Field(default=None, ge=0)
    AuthenticationErrorRetries: int | None = Field(default=None, ge=0)
    TimeoutErrorRetries: int | None = Field(default=None, ge=0)
    RateLimitErrorRetries: int | None = Field(default=None, ge=0)
    ContentPolicyViolationErrorRetries: int | None = Field(default=None, ge=0)
    InternalServerErrorRetries: int | None = Field(default=None, ge=0)
    ServiceUnavailableErrorRetries: int | None = Field(default=None, ge=0)
    NotFoundErrorRetries: int | None = Field(default=None, ge=0)
    DefaultRetries: int | None = Field(default=None, ge=0)


class RouterSettings(_Section):
    routing_strategy: str = "simple-shuffle"
    num_retries: int | None = Field(default=None, ge=0)
    timeout: float | None = Field(default=None, gt=0)
    fallbacks: list[dict[str, list[str]]] = Field(default_factory=list)
    context_window_fallbacks: list[dict[str, list[str]]] = Field(default_factory=list)
    content_policy_fallbacks: list[dict[str, list[str]]] = Field(default_factory=list)
    allowed_fails: int | None = Field(default=None, ge=0)
    cooldown_time: float | None = Field(default=None, ge=0)
    redis_host: str | None = None
    redis_port: int | None = None
    redis_password: str | None = None
    routing_strategy_args: dict[str, Any] = Field(default_factory=dict)
    model_group_alias: dict[str, str | ModelGroupAlias] = Field(default_factory=dict)
    disable_cooldowns: bool = False
    retry_policy: RetryPolicy | None = None
    # a group's policy replaces `retry_policy` for that group (LiteLLM: no merging)
    model_group_retry_policy: dict[str, RetryPolicy] = Field(default_factory=dict)


class KeyUpperbound(_Section):
    """`litellm_settings.upperbound_key_generate_params`: the most a key may be given."""

    max_budget: float | None = Field(default=None, ge=0)
    budget_duration: str | None = None
    duration: str | None = None
    max_parallel_requests: int | None = Field(default=None, ge=1)
    tpm_limit: int | None = Field(default=None, ge=0)
    rpm_limit: int | None = Field(default=None, ge=0)


class KeyGenerateDefaults(KeyUpperbound):
    """`litellm_settings.default_key_generate_params`: what /key/generate uses for a field the
    request leaves out (the bounded limits, and these)."""

    models: list[str] | None = None
    metadata: dict[str, Any] | None = None
    user_id: str | None = None
    team_id: str | None = None


class ModelGroupSettings(BaseModel):
    """`litellm_settings.model_group_settings`: the model groups (names, or patterns with
    `*`) whose calls forward the client's headers (gateway/providers/client_headers.py)."""

    model_config = ConfigDict(extra="allow")

    forward_client_headers_to_llm_api: list[str] = Field(default_factory=list)


class LiteLLMSettings(_Section, TracingKeys):
    """The tracing keys (callbacks, content switches, `langfuse_*`) come from `TracingKeys`,
    which every service reads alike."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    drop_params: bool = False
    num_retries: int | None = Field(default=None, ge=0)
    request_timeout: float | None = Field(default=None, gt=0)
    cache: bool = False
    cache_params: dict[str, Any] = Field(default_factory=dict)
    set_verbose: bool | None = None
    json_logs: bool | None = None
    # TLS verification for every upstream (common/tls.py; SSL_VERIFY wins, as in LiteLLM)
    ssl_verify: SslVerifySetting | None = None
    default_key_generate_params: KeyGenerateDefaults | None = None
    upperbound_key_generate_params: KeyUpperbound | None = None
    # The status of every budget refusal: LiteLLM 1.106.2's 422 (SDKs retry a 429)
    budget_exceeded_status_code: int = Field(default=422, ge=400, le=599)
    # A proxy-wide budget (gateway/budgets/proxy_budget.py); 0 is off, as in LiteLLM
    budget_duration: str | None = None
    max_budget: float = Field(default=0.0, ge=0)
    model_group_settings: ModelGroupSettings | None = None

    @field_validator("budget_duration")
    @classmethod
    def _calendar_duration(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                next_reset_at(value, datetime.now(UTC))
            except DurationError as exc:
                raise PydanticCustomError("duration", str(exc)) from None
        return value

    @field_validator("max_budget")
    @classmethod
    def _proxy_budget_has_a_window(cls, value: float, info: ValidationInfo) -> float:
        # a budget_duration that failed its own check is absent here, and already reported
        if value > 0 and "budget_duration" in info.data and info.data["budget_duration"] is None:
            raise PydanticCustomError(
                "proxy_budget", "a proxy-wide max_budget needs budget_duration, e.g. '30d'"
            )
        return value


class GeneralSettings(_Section):
    master_key: str | None = None
    enforce_user_param: bool = False  # every model request must carry `user`
    background_health_checks: bool = False
    health_check_interval: float = Field(default=300.0, gt=0)
    database_url: str | None = None
    proxy_batch_write_at: float | None = Field(default=None, gt=0)
    allow_requests_on_db_unavailable: bool = False
    enable_jwt_auth: bool = False
    litellm_jwtauth: dict[str, Any] = Field(default_factory=dict)
    max_parallel_requests: int | None = Field(default=None, ge=1)
    max_request_size_mb: float | None = Field(default=None, gt=0)
    maximum_spend_logs_retention_period: str | None = None
    # toolrelay only: image URL hosts the gateway may fetch although they are not public
    image_fetch_allow_hosts: list[str] = Field(default_factory=list)
    # toolrelay only: let keys with a budget call models nothing prices (they cost 0)
    allow_unpriced_models: bool = False
    # toolrelay only: how long /v1/responses keeps responses for previous_response_id ("30d")
    responses_retention_period: str | None = None
    # LiteLLM: models added through /model/new are kept in the database (or STORE_MODEL_IN_DB=True)
    store_model_in_db: bool = False
    # toolrelay only: a bearer token that may read /metrics (besides the master key)
    metrics_token: str | None = None
    # LiteLLM: no spend-log rows; key, team, user and end-user spend and the rollups still count
    disable_spend_logs: bool = False
    # LiteLLM: the request body and the response are kept with each spend-log row
    store_prompts_in_spend_logs: bool = False
    # LiteLLM: the client's `x-*` headers (not auth, not `x-stainless-*`) and `anthropic-beta`
    # go to the provider
    forward_client_headers_to_llm_api: bool = False


class UISettings(_Section):
    middleware_url: str = "http://127.0.0.1:4001"


class ConfigFile(_Section):
    model_list: list[ModelEntry] = Field(default_factory=list)
    router_settings: RouterSettings = Field(default_factory=RouterSettings)
    litellm_settings: LiteLLMSettings = Field(default_factory=LiteLLMSettings)
    general_settings: GeneralSettings = Field(default_factory=GeneralSettings)
    environment_variables: dict[str, str] = Field(default_factory=dict)
    # The middleware's and the MCP servers' sections: each service validates its own.
    mcp_servers: dict[str, Any] = Field(default_factory=dict)
    middleware_settings: dict[str, Any] = Field(default_factory=dict)
    mcp_server_settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    storage: dict[str, Any] = Field(default_factory=dict)
    ui_settings: UISettings = Field(default_factory=UISettings)
