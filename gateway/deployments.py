"""Deployments: one `model_list` entry each; entries sharing a `model_name` form a model group."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.config.loader import REQUEST_DEFAULT_PARAMS
from gateway.config.schema import ModelEntry
from gateway.provider_inference import DEFAULT_PROVIDER, infer_provider
from gateway.provider_keys import settings_from_environment


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
    # how the deployment was completed at load time, for the start-up log and config check:
    # the provider was inferred from a bare model name; {field: environment variable}
    provider_inferred: bool = False
    from_environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return str(self.model_info.get("mode") or "chat")


def split_provider(model: str) -> tuple[str, str]:
    """`anthropic/claude-x` -> ("anthropic", "claude-x"); a bare name goes to the provider
    that makes it (`claude-x` -> anthropic, see `gateway.provider_inference`), else OpenAI."""
    provider, sep, name = model.partition("/")
    if not sep:
        return infer_provider(model) or DEFAULT_PROVIDER, model
    return provider, name


def deployment_from_entry(
    entry: ModelEntry, index: int, environ: Mapping[str, str] = os.environ
) -> Deployment:
    """`environ` supplies what the entry leaves out (the provider's standard API key
    variable, ...), as LiteLLM does."""
    params = entry.litellm_params
    provider, upstream_model = split_provider(params.model)
    inferred = "/" not in params.model and infer_provider(params.model) is not None
    given = {
        "api_key": params.api_key,
        "api_base": params.api_base,
        "api_version": params.api_version,
    }
    found = settings_from_environment(provider, given, environ)
    api_base = found["api_base"][1] if "api_base" in found else params.api_base
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
        api_base=api_base.rstrip("/") if api_base else None,
        api_key=found["api_key"][1] if "api_key" in found else params.api_key,
        api_version=found["api_version"][1] if "api_version" in found else params.api_version,
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
        provider_inferred=inferred,
        from_environment={name: variable for name, (variable, _) in found.items()},
    )


def _stable_id(entry: ModelEntry, index: int) -> str:
    # Stable across restarts and instances so that shared router state (Redis) lines up.
    seed = (
        f"{index}:{entry.model_name}:{entry.litellm_params.model}:{entry.litellm_params.api_base}"
    )
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def inference_summary(deployments: list[Deployment]) -> str | None:
    """One line naming the deployments whose provider was inferred from a bare model name,
    e.g. `claude-3-5-sonnet-20241022 -> anthropic, gpt-4o -> openai`; None if there are none."""
    pairs = sorted({f"{d.model} -> {d.provider}" for d in deployments if d.provider_inferred})
    return ", ".join(pairs) or None


def environment_summary(deployments: list[Deployment]) -> str | None:
    """One line naming the settings taken from environment variables (never their values),
    e.g. `claude (anthropic): api_key from ANTHROPIC_API_KEY`; None if there are none."""
    parts = sorted(
        {
            f"{d.model_name} ({d.provider}): "
            + ", ".join(f"{name} from {var}" for name, var in sorted(d.from_environment.items()))
            for d in deployments
            if d.from_environment
        }
    )
    return "; ".join(parts) or None
