"""Deployments: one `model_list` entry each; entries sharing a `model_name` form a model group."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.config.loader import REQUEST_DEFAULT_PARAMS
from gateway.config.schema import ModelEntry

DEFAULT_PROVIDER = "openai"


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    model_name: str
    provider: str
    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    organization: str | None = None
    timeout: float | None = None
    stream_timeout: float | None = None
    rpm: int | None = None
    tpm: int | None = None
    weight: float | None = None
    order: int | None = None
    max_parallel_requests: int | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    request_defaults: Mapping[str, Any] = field(default_factory=dict)
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    model_info: Mapping[str, Any] = field(default_factory=dict)
    extra_params: Mapping[str, Any] = field(default_factory=dict)
    ssl_verify: bool | str | None = None

    @property
    def mode(self) -> str:
        return str(self.model_info.get("mode") or "chat")


def split_provider(model: str) -> tuple[str, str]:
    """`anthropic/claude-x` -> ("anthropic", "claude-x"); a bare name is an OpenAI model."""
    provider, sep, name = model.partition("/")
    if not sep:
        return DEFAULT_PROVIDER, model
    return provider, name


def deployment_from_entry(entry: ModelEntry, index: int) -> Deployment:
    params = entry.litellm_params
    provider, upstream_model = split_provider(params.model)
    extras = dict(params.model_extra or {})
    defaults = {k: v for k, v in extras.items() if k in REQUEST_DEFAULT_PARAMS}
    others = {k: v for k, v in extras.items() if k not in REQUEST_DEFAULT_PARAMS}
    info = entry.model_info.model_dump(exclude_none=True)
    deployment_id = entry.model_info.id or _stable_id(entry, index)
    return Deployment(
        id=deployment_id,
        model_name=entry.model_name,
        provider=provider,
        model=upstream_model,
        api_base=params.api_base.rstrip("/") if params.api_base else None,
        api_key=params.api_key,
        api_version=params.api_version,
        organization=params.organization,
        timeout=params.timeout,
        stream_timeout=params.stream_timeout,
        rpm=params.rpm,
        tpm=params.tpm,
        weight=params.weight,
        order=params.order,
        max_parallel_requests=params.max_parallel_requests,
        input_cost_per_token=params.input_cost_per_token or entry.model_info.input_cost_per_token,
        output_cost_per_token=params.output_cost_per_token
        or entry.model_info.output_cost_per_token,
        request_defaults=defaults,
        extra_headers=dict(params.extra_headers or {}),
        model_info=info,
        extra_params=others,
        ssl_verify=params.ssl_verify,
    )


def _stable_id(entry: ModelEntry, index: int) -> str:
    # Stable across restarts and instances so that shared router state (Redis) lines up.
    seed = (
        f"{index}:{entry.model_name}:{entry.litellm_params.model}:{entry.litellm_params.api_base}"
    )
    return hashlib.sha256(seed.encode()).hexdigest()[:16]
