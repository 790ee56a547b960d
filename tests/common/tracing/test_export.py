"""The export queue never blocks: with the receiver stalled, spans beyond the bound are
dropped and counted, and every other span arrives once it answers again."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from common.tracing.export import BoundedSpanProcessor
from common.tracing.otlp import OtlpHttpSpanExporter
from tests.support.otlp_receiver import running_receiver
from tests.support.processes import free_port


def test_stalled_receiver_drops_and_counts_overflow() -> None:
    with running_receiver() as receiver:
        receiver.hold()
        processor = BoundedSpanProcessor(
            OtlpHttpSpanExporter(receiver.endpoint, {}, timeout=30),
            max_queue=10,
            batch_size=5,
            interval=0.05,
        )
        provider = TracerProvider()
        provider.add_span_processor(processor)
        tracer = provider.get_tracer("test")
        for i in range(60):
            with tracer.start_as_current_span(f"span {i}"):
                pass
        assert processor.dropped > 0
        receiver.release()
        assert processor.force_flush(30_000)
        spans = receiver.wait_for(lambda got: len(got) + processor.dropped >= 60)
        assert len(spans) + processor.dropped == 60
        assert len({s.name for s in spans}) == len(spans)
        provider.shutdown()


def test_unreachable_receiver_counts_failures_and_never_raises_into_the_caller() -> None:
    processor = BoundedSpanProcessor(
        OtlpHttpSpanExporter(f"http://127.0.0.1:{free_port()}/v1/traces", {}, timeout=1),
        max_queue=4,
        batch_size=2,
        interval=0.05,
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    for i in range(20):
        with tracer.start_as_current_span(f"span {i}"):
            pass
    assert processor.force_flush(30_000)
    assert processor.exported == 0
    assert processor.failed + processor.dropped == 20
    provider.shutdown()
