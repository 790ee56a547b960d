"""Install the process's tracer provider from `TracingSettings`.

OpenTelemetry's API reads one provider per process (`trace.get_tracer`); each service
installs it once, in its `serve()`, before the app is built. With tracing off nothing is
installed and every span is the API's no-op, which costs next to nothing.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from gateway.tracing.export import BoundedSpanProcessor
from gateway.tracing.settings import TracingSettings

EXPORT_TIMEOUT = 5.0  # seconds per export request; only the export thread waits on it


class ToolrelayTracerProvider(TracerProvider):
    """The SDK provider, plus the content switches the instrumentation reads."""

    def __init__(self, settings: TracingSettings) -> None:
        super().__init__(resource=Resource.create({"service.name": settings.service_name}))
        self.settings = settings
        self.processors: list[BoundedSpanProcessor] = []
        for target in settings.targets:
            exporter = OTLPSpanExporter(
                endpoint=target.endpoint, headers=target.headers, timeout=EXPORT_TIMEOUT
            )
            processor = BoundedSpanProcessor(exporter, name=target.name)
            self.processors.append(processor)
            self.add_span_processor(processor)

    def dropped_spans(self) -> int:
        return sum(p.dropped for p in self.processors)


def build_provider(settings: TracingSettings) -> ToolrelayTracerProvider | None:
    return ToolrelayTracerProvider(settings) if settings.enabled else None


def install_tracing(settings: TracingSettings) -> ToolrelayTracerProvider | None:
    provider = build_provider(settings)
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider


def active_settings() -> TracingSettings | None:
    """The installed provider's settings (None when tracing is off)."""
    provider = trace.get_tracer_provider()
    return provider.settings if isinstance(provider, ToolrelayTracerProvider) else None
