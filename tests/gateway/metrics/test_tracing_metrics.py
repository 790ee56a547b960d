"""The trace export's losses show on /metrics: refused or unreachable exports are counted."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from common.tracing.export_settings import ExportSettings
from common.tracing.sdk_provider import ToolrelayTracerProvider
from common.tracing.settings import OtlpTarget, TracingSettings
from gateway.metrics.tracing import TracingExportCollector
from tests.support.processes import free_port


def test_failed_exports_are_counted_per_target() -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1/traces"
    provider = ToolrelayTracerProvider(
        TracingSettings(
            service_name="test",
            targets=(OtlpTarget("otel", dead),),
            export=ExportSettings(retry_for=0),
        )
    )
    tracer = provider.get_tracer("test")
    for i in range(3):
        with tracer.start_as_current_span(f"span {i}"):
            pass
    assert provider.force_flush(30_000)
    registry = CollectorRegistry()
    registry.register(TracingExportCollector(lambda: provider))
    samples = {
        (s.name, s.labels["target"]): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }
    provider.shutdown()
    assert samples[("toolrelay_tracing_spans_export_failed_total", "otel")] == 3
    assert samples[("toolrelay_tracing_spans_dropped_total", "otel")] == 0
    assert samples[("toolrelay_tracing_export_retries_total", "otel")] == 0  # bound of 0 s
