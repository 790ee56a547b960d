"""The gateway's own spans: GenAI attributes on the request's span (`TracingHook`) and one
span per router attempt (`router`). Settings, provider, export and the SERVER span are
`common.tracing`, shared with the middleware and the MCP servers."""

from __future__ import annotations

import os

from common.tracing import TracingSettings, active_settings, start_tracing, tracing_settings
from gateway.config import LoadedConfig
from gateway.tracing.hook import TracingHook

GATEWAY_SERVICE = "toolrelay-gateway"


def start_gateway_tracing(config: LoadedConfig) -> object | None:
    return start_tracing(config.file.litellm_settings, GATEWAY_SERVICE)


def gateway_tracing_settings(config: LoadedConfig) -> TracingSettings:
    """The installed settings when this process traces, else the config's own (unexported)."""
    return active_settings() or tracing_settings(
        config.file.litellm_settings, os.environ, service_name=GATEWAY_SERVICE
    )


__all__ = [
    "GATEWAY_SERVICE",
    "TracingHook",
    "gateway_tracing_settings",
    "start_gateway_tracing",
]
