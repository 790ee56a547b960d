"""The export queue never blocks: with the receiver stalled, spans beyond the bound are
dropped and counted, and every other span arrives once it answers again. A batch the
receiver cannot take yet (429, 502, 503, 504, no connection) is sent again, within a bound,
and arrives once; a refused one (400) is dropped at once and counted. Every target with
room gets each span; one span that cannot be encoded is the only one lost. Under load the
batches are full ones."""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable

from opentelemetry.sdk.trace import TracerProvider

from common.tracing.export import BoundedSpanProcessor, SpanFanout
from common.tracing.otlp import OtlpEncoder, OtlpHttpSpanExporter, retry_after_seconds
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


def _processor(
    endpoint: str, *, batch_size: int = 5, max_queue: int = 2048, retry_for: float = 30.0
) -> tuple[TracerProvider, BoundedSpanProcessor]:
    processor = BoundedSpanProcessor(
        OtlpHttpSpanExporter(endpoint, {}, timeout=5),
        batch_size=batch_size,
        max_queue=max_queue,
        interval=0.05,
        retry_first=0.02,
        retry_max_delay=0.1,
        retry_for=retry_for,
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return provider, processor


def _emit(provider: TracerProvider, count: int, prefix: str = "span") -> None:
    tracer = provider.get_tracer("test")
    for i in range(count):
        with tracer.start_as_current_span(f"{prefix} {i}"):
            pass


def _wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def test_unreachable_receiver_counts_failures_and_never_raises_into_the_caller() -> None:
    provider, processor = _processor(
        f"http://127.0.0.1:{free_port()}/v1/traces", max_queue=4, batch_size=2, retry_for=0.2
    )
    _emit(provider, 20)
    assert processor.force_flush(30_000)
    assert processor.exported == 0
    assert processor.failed + processor.dropped == 20
    assert processor.retries > 0
    provider.shutdown()


def test_503_then_200_delivers_each_span_exactly_once() -> None:
    with running_receiver() as receiver:
        receiver.answer_next(503, 503, 429, retry_after="0")
        provider, processor = _processor(receiver.endpoint, batch_size=10)
        _emit(provider, 10)
        assert processor.force_flush(30_000)
        spans = receiver.wait_for(lambda got: len(got) >= 10)
        provider.shutdown()
    assert sorted(s.name for s in spans) == sorted(f"span {i}" for i in range(10))
    assert receiver.refused == 3 and processor.retries == 3
    assert processor.exported == 10 and processor.failed == 0


def test_queue_stays_bounded_while_a_batch_is_retried() -> None:
    with running_receiver() as receiver:
        receiver.answer_next(*[503] * 1000, retry_after="0")
        provider, processor = _processor(receiver.endpoint, max_queue=8, batch_size=4)
        _emit(provider, 4, "first")
        _wait_until(lambda: processor.retries >= 2)  # the first batch is being retried
        _emit(provider, 50, "later")
        assert len(processor._queue) <= 8
        assert processor.dropped == 50 - 8
        with receiver._lock:
            receiver._scripted.clear()
        assert processor.force_flush(30_000)
        spans = receiver.wait_for(lambda got: len(got) >= 12)
        provider.shutdown()
    assert len(spans) == 12 and processor.exported == 12


def test_a_refused_batch_is_dropped_at_once_and_counted() -> None:
    with running_receiver() as receiver:
        receiver.answer_next(400)
        provider, processor = _processor(receiver.endpoint, batch_size=5)
        _emit(provider, 5)
        assert processor.force_flush(30_000)
        _wait_until(lambda: processor.failed == 5)
        provider.shutdown()
    assert processor.retries == 0 and processor.exported == 0
    assert receiver.snapshot() == []


def test_retry_after_beyond_the_bound_gives_up_without_waiting() -> None:
    with running_receiver() as receiver:
        receiver.answer_next(503, retry_after="3600")
        provider, processor = _processor(receiver.endpoint, batch_size=5, retry_for=30)
        _emit(provider, 5)
        _wait_until(lambda: processor.failed == 5)
        provider.shutdown()
    assert processor.retries == 0


def test_receiver_down_then_up_gets_the_spans() -> None:
    port = free_port()
    provider, processor = _processor(f"http://127.0.0.1:{port}/v1/traces", batch_size=5)
    _emit(provider, 5)
    _wait_until(lambda: processor.retries >= 2)  # refused connections, retried
    with running_receiver(port=port) as receiver:
        spans = receiver.wait_for(lambda got: len(got) >= 5)
        provider.shutdown()
    assert sorted(s.name for s in spans) == sorted(f"span {i}" for i in range(5))
    assert processor.exported == 5 and processor.failed == 0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    later = email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1), usegmt=True
    )
    seconds = retry_after_seconds(later)
    assert seconds is not None and 3500 < seconds <= 3600


def test_fanout_queues_each_span_for_every_target_that_has_room() -> None:
    """Two targets (otel and langfuse, say), one encoder: a target whose queue is full drops
    and counts the span while the other still gets it."""
    with running_receiver() as first, running_receiver() as second:
        first.hold()  # the first target's sends wait, so its queue fills
        encoder = OtlpEncoder()
        queues = [
            BoundedSpanProcessor(
                OtlpHttpSpanExporter(receiver.endpoint, {}, timeout=30),
                encoder=encoder,
                name=name,
                max_queue=4,
                batch_size=100,
                interval=60,
            )
            for name, receiver in (("otel", first), ("langfuse", second))
        ]
        fanout = SpanFanout(queues)
        provider = TracerProvider()
        provider.add_span_processor(fanout)
        _emit(provider, 4, "both")
        assert queues[1].force_flush(30_000)  # the second sends; the first stays full
        _emit(provider, 3, "second only")
        assert queues[0].dropped == 3 and queues[1].dropped == 0
        assert queues[1].force_flush(30_000)
        assert len(second.wait_for(lambda got: len(got) >= 7)) == 7
        first.release()
        assert fanout.force_flush(30_000)
        received = first.wait_for(lambda got: len(got) >= 4)
        provider.shutdown()
    assert sorted(s.name for s in received) == [f"both {i}" for i in range(4)]
    assert queues[0].exported == 4 and queues[1].exported == 7


def test_a_span_that_cannot_be_encoded_is_dropped_not_raised() -> None:
    """An attribute value OTLP cannot carry (set by some library) loses that span only: the
    code that ended it goes on, and the spans around it are exported."""
    with running_receiver() as receiver:
        provider, processor = _processor(receiver.endpoint, batch_size=2)
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("before"):
            pass
        span = tracer.start_span("odd")
        span._attributes._dict["odd"] = object()  # type: ignore[attr-defined]  # past SDK checks
        span.end()  # must not raise
        with tracer.start_as_current_span("after"):
            pass
        assert processor.force_flush(30_000)
        spans = receiver.wait_for(lambda got: len(got) >= 2)
        provider.shutdown()
    assert sorted(s.name for s in spans) == ["after", "before"]
    assert processor.unencodable == 1 and processor.failed == 1 and processor.exported == 2


def test_spans_that_end_while_a_full_batch_is_sent_wait_for_the_next_one() -> None:
    """Woken by a full batch, the thread sends full batches only: what ends meanwhile waits
    for the next full batch, the interval or a flush (sent at once, it made batches of about
    200 spans instead of 512 under load, each POST costing the thread ~900 us of CPU)."""
    with running_receiver() as receiver:
        receiver.hold()
        processor = BoundedSpanProcessor(
            OtlpHttpSpanExporter(receiver.endpoint, {}, timeout=30), batch_size=10, interval=60
        )
        provider = TracerProvider()
        provider.add_span_processor(processor)
        _emit(provider, 10, "full")
        _wait_until(lambda: processor.queued == 0)  # the thread took the batch; it is held
        _emit(provider, 3, "late")
        receiver.release()
        receiver.wait_for(lambda got: len(got) >= 10)
        _wait_until(lambda: processor.idle)
        assert (receiver.requests, processor.queued) == (1, 3)
        assert processor.force_flush(30_000)
        spans = receiver.wait_for(lambda got: len(got) >= 13)
        provider.shutdown()
    assert receiver.requests == 2
    assert sorted(s.name for s in spans if s.name.startswith("late")) == [
        f"late {i}" for i in range(3)
    ]
