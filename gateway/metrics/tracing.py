"""`toolrelay_tracing_spans_dropped_total` and `..._export_failed_total`: what the trace
export queue could not deliver; `toolrelay_tracing_export_retries_total`: how often a batch
was sent again (read at scrape time from this process's tracer provider)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


class _ExportQueue(Protocol):
    name: str
    dropped: int
    failed: int
    retries: int


class TracingExportCollector(Collector):
    def __init__(self, provider: Callable[[], TracerProvider] = trace.get_tracer_provider) -> None:
        self.provider = provider

    def collect(self) -> Iterator[CounterMetricFamily]:
        # Duck-typed: the SDK provider class is only imported when tracing is on.
        queues: list[_ExportQueue] = list(getattr(self.provider(), "processors", []))
        if not queues:
            return
        dropped = CounterMetricFamily(
            "toolrelay_tracing_spans_dropped",
            "Spans dropped because the export queue was full (receiver slow or down)",
            labels=["target"],
        )
        failed = CounterMetricFamily(
            "toolrelay_tracing_spans_export_failed",
            "Spans the receiver refused or could not be reached for",
            labels=["target"],
        )
        retries = CounterMetricFamily(
            "toolrelay_tracing_export_retries",
            "Batches sent again after a retryable answer (429, 502, 503, 504) or no connection",
            labels=["target"],
        )
        for processor in queues:
            dropped.add_metric([processor.name], processor.dropped)
            failed.add_metric([processor.name], processor.failed)
            retries.add_metric([processor.name], processor.retries)
        yield dropped
        yield failed
        yield retries
