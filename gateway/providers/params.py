"""Request-body preparation shared by providers: gateway-only fields, defaults, drop_params."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.errors import BadRequestError
from gateway.providers.base import JSON, ProviderCall
from gateway.providers.body_shape import check_body_shape

# Fields that steer the gateway itself and must never reach an upstream.
GATEWAY_ONLY_FIELDS = frozenset(
    {
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "num_retries",
        "timeout",
        "cache",
        "caching",
        "metadata",
        "tags",
        "mock_response",
        "guardrails",
        "litellm_metadata",
        "api_key",
        "api_base",
        "base_url",
    }
)


def upstream_body(call: ProviderCall) -> JSON:
    """The request body with deployment defaults applied and gateway-only fields removed."""
    check_body_shape(call.body)
    body: JSON = {**call.deployment.request_defaults}
    for key, value in call.body.items():
        if key not in GATEWAY_ONLY_FIELDS:
            body[key] = value
    body["model"] = call.deployment.model
    return body


def enforce_supported(
    body: JSON, supported: Iterable[str], *, provider: str, drop_params: bool
) -> JSON:
    """Drop (with `drop_params`) or refuse (400) parameters the provider cannot honour."""
    allowed = set(supported)
    unsupported = [key for key in body if key not in allowed]
    if not unsupported:
        return body
    if not drop_params:
        raise BadRequestError(
            f"{provider} does not support parameters: {', '.join(sorted(unsupported))}. "
            "Set litellm_settings.drop_params: true to drop them.",
            code="unsupported_params",
            param=unsupported[0],
        )
    return {k: v for k, v in body.items() if k in allowed}


def as_float(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default
