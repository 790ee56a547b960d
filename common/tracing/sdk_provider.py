"""The SDK tracer provider with one bounded OTLP/HTTP export queue per target.

Imported only when tracing is on (see `common.tracing.provider`): the SDK and the exporter
cost start-up time that a gateway without tracing should not pay.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from common.tracing.export import BoundedSpanProcessor, SpanFanout
from common.tracing.light import LightTracer
from common.tracing.otlp import OtlpEncoder, OtlpHttpSpanExporter
from common.tracing.settings import TracingSettings


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

    def light_tracer(self, name: str) -> LightTracer:
        tracer = self._light_tracers.get(name)
        if tracer is None:
            tracer = self._light_tracers[name] = LightTracer(self, name)
        return tracer

    def dropped_spans(self) -> int:
        return sum(p.dropped for p in self.processors)
