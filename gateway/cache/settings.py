"""`litellm_settings.cache_params`, in LiteLLM's names, validated once at startup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import validation_problems
from gateway.config import ConfigError

# LiteLLM's call type names, and which of our call types each one turns on.
CALL_TYPES: dict[str, str] = {
    "completion": "chat",
    "acompletion": "chat",
    "text_completion": "completion",
    "atext_completion": "completion",
    "embedding": "embedding",
    "aembedding": "embedding",
    "anthropic_messages": "messages",
    "responses": "responses",
    "aresponses": "responses",
}
DEFAULT_CALL_TYPES = (
    "acompletion",
    "atext_completion",
    "aembedding",
    "anthropic_messages",
    "aresponses",
)
DEFAULT_MAX_ENTRIES = 10_000


class CacheParams(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["local", "redis", "s3"] = "local"
    namespace: str | None = None
    ttl: float | None = Field(default=None, gt=0)
    default_in_memory_ttl: float | None = Field(default=None, gt=0)
    default_in_redis_ttl: float | None = Field(default=None, gt=0)
    supported_call_types: list[str] = Field(default_factory=lambda: list(DEFAULT_CALL_TYPES))
    max_size_in_memory: int = Field(default=DEFAULT_MAX_ENTRIES, ge=1)
    # redis
    host: str | None = None
    port: int | None = None
    password: str | None = None
    url: str | None = None
    redis_url: str | None = None
    # s3
    s3_bucket_name: str | None = None
    s3_region_name: str | None = None
    s3_endpoint_url: str | None = None
    s3_aws_access_key_id: str | None = None
    s3_aws_secret_access_key: str | None = None
    s3_aws_session_token: str | None = None
    s3_use_ssl: bool | None = None
    s3_verify: bool | None = None
    s3_path: str | None = None

    def default_ttl(self) -> float | None:
        if self.ttl is not None:
            return self.ttl
        if self.type == "local":
            return self.default_in_memory_ttl
        if self.type == "redis":
            return self.default_in_redis_ttl
        return None

    def call_types(self) -> frozenset[str]:
        return frozenset(
            CALL_TYPES[name] for name in self.supported_call_types if name in CALL_TYPES
        )


def parse_cache_params(raw: Mapping[str, Any]) -> CacheParams:
    try:
        return CacheParams.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc, "litellm_settings.cache_params"))
        raise ConfigError(f"invalid cache settings: {problems}") from None
