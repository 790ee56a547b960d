"""OpenTelemetry tracing for the gateway and the middleware (and the settings both read)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import structlog

from common.config import ConfigDocument
from gateway.callbacks import plan_callbacks
from gateway.config import LoadedConfig
from gateway.config.schema import ConfigFile, LiteLLMSettings
from gateway.tracing.asgi import ServerSpanMiddleware
from gateway.tracing.hook import TracingHook
from gateway.tracing.provider import active_settings, install_tracing
from gateway.tracing.settings import TracingSettings, tracing_settings

GATEWAY_SERVICE = "toolrelay-gateway"
MIDDLEWARE_SERVICE = "toolrelay-middleware"


def settings_for(
    config: LoadedConfig, service_name: str, environ: Mapping[str, str] | None = None
) -> TracingSettings:
    litellm = config.file.litellm_settings
    env = os.environ if environ is None else environ
    return tracing_settings(litellm, plan_callbacks(litellm), env, service_name=service_name)


def start_tracing(config: LoadedConfig, service_name: str) -> object | None:
    """Install this process's tracer provider (once, before the app is built) and say so."""
    settings = settings_for(config, service_name)
    log = structlog.get_logger("toolrelay.tracing")
    for problem in settings.problems:
        log.warning("config", detail=problem)
    provider = install_tracing(settings)
    if provider is not None:
        log.info(
            "tracing on",
            service=settings.service_name,
            targets=[f"{t.name} {t.endpoint}" for t in settings.targets],
            content=settings.record_content,
        )
    return provider


def start_tracing_for(document: ConfigDocument, service_name: str) -> object | None:
    """`start_tracing` for a service that reads its config as a document (the middleware):
    only `litellm_settings` matters to tracing, validated here as the gateway does."""
    litellm = LiteLLMSettings.model_validate(document.section("litellm_settings") or {})
    return start_tracing(
        LoadedConfig(path=document.path, file=ConfigFile(litellm_settings=litellm)), service_name
    )


def gateway_tracing_settings(config: LoadedConfig) -> TracingSettings:
    """The installed settings when this process traces, else the config's own (unexported)."""
    return active_settings() or settings_for(config, GATEWAY_SERVICE)


__all__ = [
    "GATEWAY_SERVICE",
    "MIDDLEWARE_SERVICE",
    "ServerSpanMiddleware",
    "TracingHook",
    "TracingSettings",
    "active_settings",
    "gateway_tracing_settings",
    "install_tracing",
    "settings_for",
    "start_tracing",
    "start_tracing_for",
]
