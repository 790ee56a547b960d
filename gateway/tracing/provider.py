"""Install the process's tracer provider from `TracingSettings`.

OpenTelemetry's API reads one provider per process (`trace.get_tracer`); each service
installs it once, in its `serve()`, before the app is built. With tracing off nothing is
installed (the SDK is not even imported) and every span is the API's no-op, which costs
next to nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace

from gateway.tracing.settings import TracingSettings

if TYPE_CHECKING:
    from gateway.tracing.sdk_provider import ToolrelayTracerProvider


def install_tracing(settings: TracingSettings) -> ToolrelayTracerProvider | None:
    if not settings.enabled:
        return None
    from gateway.tracing.sdk_provider import ToolrelayTracerProvider

    provider = ToolrelayTracerProvider(settings)
    trace.set_tracer_provider(provider)
    return provider


def active_settings() -> TracingSettings | None:
    """The installed provider's settings (None when tracing is off)."""
    settings = getattr(trace.get_tracer_provider(), "settings", None)
    return settings if isinstance(settings, TracingSettings) else None
