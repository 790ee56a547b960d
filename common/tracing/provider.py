"""Install the process's tracer provider from `TracingSettings`.

OpenTelemetry's API reads one provider per process (`trace.get_tracer`); each service
installs it once, in its `serve()`, before the app is built. With tracing off nothing is
installed (the SDK is not even imported) and every span is the API's no-op, which costs
next to nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING

import structlog
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span

from common.tracing.settings import TracingKeys, TracingSettings, tracing_settings

if TYPE_CHECKING:
    from common.tracing.sdk_provider import ToolrelayTracerProvider


def install_tracing(settings: TracingSettings) -> ToolrelayTracerProvider | None:
    if not settings.enabled:
        return None
    from common.tracing.sdk_provider import ToolrelayTracerProvider

    provider = ToolrelayTracerProvider(settings)
    trace.set_tracer_provider(provider)
    return provider


def active_settings() -> TracingSettings | None:
    """The installed provider's settings (None when tracing is off)."""
    settings = getattr(trace.get_tracer_provider(), "settings", None)
    return settings if isinstance(settings, TracingSettings) else None


class _NoSpan(AbstractContextManager[Span]):
    """What a span helper returns with tracing off: a `with` that does nothing. The API's
    no-op tracer would still make a span object and switch the context twice per span."""

    __slots__ = ()

    def __enter__(self) -> Span:
        return INVALID_SPAN

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


NO_SPAN: AbstractContextManager[Span] = _NoSpan()


def start_tracing(
    keys: TracingKeys, service_name: str, environ: Mapping[str, str] | None = None
) -> ToolrelayTracerProvider | None:
    """Install this process's tracer provider (once, before the app is built) and say so."""
    settings = tracing_settings(
        keys, os.environ if environ is None else environ, service_name=service_name
    )
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
