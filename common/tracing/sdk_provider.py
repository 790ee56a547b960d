"""The SDK tracer provider with one bounded OTLP/HTTP export queue per target.

Imported only when tracing is on (see `common.tracing.provider`): the SDK and the exporter
cost start-up time that a gateway without tracing should not pay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan
from opentelemetry.util.types import Attributes

from common.tracing.export import BoundedSpanProcessor, SpanFanout
from common.tracing.light import LightTracer, current_span
from common.tracing.otlp import OtlpEncoder, OtlpHttpSpanExporter
from common.tracing.settings import TracingSettings

# Libraries whose own spans repeat ours. The MCP SDK (2.x) traces every message its client
# sends (`MCP send tools/call execute_sql`) and every one its server handles (`tools/call
# execute_sql`), next to our tool-call span and our MCP server's span: one tool call was four
# spans, three of them "tool" observations in Langfuse, and the server's a span for every
# message of every session, traced caller or not. SDK spans also cost several times a light
# one, in the middleware and in the MCP server.
REPEATED_INSTRUMENTATION = frozenset({"mcp-python-sdk"})


class SilentTracer(trace.NoOpTracer):
    """The tracer of a library in `REPEATED_INSTRUMENTATION`: its spans are not recorded and
    change nothing. The API's no-op tracer would make a copy of the current span current
    inside, so our log lines there would name the caller's span, not ours; here the context
    stays as it is, and what the library propagates (the MCP SDK's `_meta.traceparent`)
    names our span."""

    # The API's return type is a private class; this is a plain context manager, as used.
    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        yield NonRecordingSpan(current_span().get_span_context())


class ToolrelayTracerProvider(TracerProvider):
    """The SDK provider, plus the content switches the instrumentation reads."""

    def __init__(self, settings: TracingSettings) -> None:
        super().__init__(resource=Resource.create({"service.name": settings.service_name}))
        self.settings = settings
        self.processors: list[BoundedSpanProcessor] = []  # one export queue per target
        self._light_tracers: dict[str, LightTracer] = {}
        encoder = OtlpEncoder()  # one for every target: its caches fill once
        export = settings.export
        for target in settings.targets:
            # only the export thread waits on the timeout
            exporter = OtlpHttpSpanExporter(target.endpoint, target.headers, export.timeout)
            processor = BoundedSpanProcessor(
                exporter,
                encoder=encoder,
                name=target.name,
                max_queue=export.max_queue,
                batch_size=export.batch_size,
                interval=export.interval,
                retry_for=export.retry_for,
            )
            self.processors.append(processor)
        # Light spans end into `fanout.finish`, SDK spans into its `on_end`.
        self.fanout = SpanFanout(self.processors)
        self.add_span_processor(self.fanout)

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> trace.Tracer:
        if instrumenting_module_name in REPEATED_INSTRUMENTATION:
            return SilentTracer()
        return super().get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )

    def light_tracer(self, name: str) -> LightTracer:
        tracer = self._light_tracers.get(name)
        if tracer is None:
            tracer = self._light_tracers[name] = LightTracer(self, name)
        return tracer

    def dropped_spans(self) -> int:
        return sum(p.dropped for p in self.processors)
