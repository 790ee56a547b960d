"""How spans leave: the standard batch-processor and exporter variables, and the retry bound
(toolrelay's own variable), reach each target's queue and exporter."""

from __future__ import annotations

from common.tracing.export_settings import DEFAULT_EXPORT, ExportSettings, export_settings
from common.tracing.sdk_provider import ToolrelayTracerProvider
from common.tracing.settings import TracingKeys, tracing_settings


def test_defaults_without_variables() -> None:
    assert export_settings({}) == (DEFAULT_EXPORT, [])
    assert DEFAULT_EXPORT.retry_for == 30.0 and DEFAULT_EXPORT.max_queue == 2048
    assert DEFAULT_EXPORT.interval == 5.0 and DEFAULT_EXPORT.batch_size == 512


def test_variables_in_milliseconds_reach_every_target() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
        "LANGFUSE_PUBLIC_KEY": "pk",
        "LANGFUSE_SECRET_KEY": "sk",
        "LANGFUSE_HOST": "http://127.0.0.1:9",
        "OTEL_BSP_MAX_QUEUE_SIZE": "100",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "50",
        "OTEL_BSP_SCHEDULE_DELAY": "250",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
        "TOOLRELAY_OTLP_RETRY_TIMEOUT": "4500",
    }
    keys = TracingKeys.from_section({"success_callback": ["langfuse"]}, "<test>")
    settings = tracing_settings(keys, env, service_name="svc")
    assert settings.problems == ()
    assert settings.export == ExportSettings(
        max_queue=100, batch_size=50, interval=0.25, timeout=2.0, retry_for=4.5
    )
    provider = ToolrelayTracerProvider(settings)
    try:
        assert [p.name for p in provider.processors] == ["otel", "langfuse"]
        for processor in provider.processors:
            assert (processor.max_queue, processor.batch_size) == (100, 50)
            assert (processor.interval, processor.retry_for) == (0.25, 4.5)
            assert processor.exporter._client.timeout.read == 2.0  # type: ignore[attr-defined]
    finally:
        provider.shutdown()


def test_traces_timeout_wins_and_zero_retry_means_no_retry() -> None:
    settings, problems = export_settings(
        {
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "750",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "9000",
            "TOOLRELAY_OTLP_RETRY_TIMEOUT": "0",
        }
    )
    assert problems == [] and settings.timeout == 0.75 and settings.retry_for == 0.0


def test_bad_values_warn_and_keep_the_default() -> None:
    settings, problems = export_settings(
        {
            "OTEL_BSP_MAX_QUEUE_SIZE": "lots",
            "TOOLRELAY_OTLP_RETRY_TIMEOUT": "-1",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4096",
        }
    )
    assert settings.max_queue == 2048 and settings.retry_for == 30.0
    assert settings.batch_size == 2048  # never above the queue
    assert len(problems) == 3
    assert any("TOOLRELAY_OTLP_RETRY_TIMEOUT='-1'" in p for p in problems)


def test_tracing_off_reads_no_export_variables() -> None:
    keys = TracingKeys.from_section({}, "<test>")
    settings = tracing_settings(keys, {"OTEL_BSP_MAX_QUEUE_SIZE": "x"}, service_name="svc")
    assert not settings.enabled and settings.problems == ()
