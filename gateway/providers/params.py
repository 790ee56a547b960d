"""Request-body preparation shared by providers: gateway-only fields, defaults, drop_params."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from common.chat import ChatRequest
from gateway.errors import BadRequestError
from gateway.providers.base import JSON, ProviderCall

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
    """The request body with deployment defaults applied and gateway-only fields removed.

    The route checked the body once (`gateway.request_checks`); nothing here re-checks it."""
    body: JSON = {**call.deployment.request_defaults}
    for key, value in call.body.items():
        if key not in GATEWAY_ONLY_FIELDS:
            body[key] = value
    body["model"] = call.deployment.model
    return body


def enforce_supported(
    body: ChatRequest, supported: Iterable[str], *, provider: str, drop_params: bool
) -> ChatRequest:
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
    # `supported` always holds "model" and "messages", so what is left is still a ChatRequest
    return cast(ChatRequest, {k: v for k, v in body.items() if k in allowed})


def as_float(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def upstream_chat_request(call: ProviderCall) -> ChatRequest:
    """`upstream_body` of a chat call, typed: the chat route parsed it (`parse_chat_request`),
    and the other routes that reach a provider's `chat`/`stream` (`/v1/messages`, legacy
    `/completions`) build it from a checked body of their own."""
    return cast(ChatRequest, upstream_body(call))
