"""The gateway's own spans: GenAI attributes on the request's span (`TracingHook`) and one
span per router attempt (`router`). Settings, provider, export and the SERVER span are
`common.tracing`, shared with the middleware and the MCP servers."""

from __future__ import annotations

from common.tracing import active_settings, start_tracing
from gateway.config import LoadedConfig
from gateway.tracing.hook import TracingHook

GATEWAY_SERVICE = "toolrelay-gateway"


def start_gateway_tracing(config: LoadedConfig) -> object | None:
    return start_tracing(config.file.litellm_settings, GATEWAY_SERVICE)


def tracing_hooks() -> list[TracingHook]:
    """The hook when this process traces; none otherwise (the request path pays nothing)."""
    settings = active_settings()
    return [] if settings is None else [TracingHook(settings)]


__all__ = [
    "GATEWAY_SERVICE",
    "TracingHook",
    "start_gateway_tracing",
    "tracing_hooks",
]
