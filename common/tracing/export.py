"""A span processor whose export can never block or slow a request, and that retries.

Finished spans go into a bounded queue; one background thread encodes and sends them in
batches. When the queue is full (the receiver is down or slow), new spans are dropped and
counted instead of waiting: the request path only ever appends to a deque. `SpanFanout` is
the one processor the provider registers: it hands each span to every target's queue
(`otel`, `langfuse`).

Encoding in the thread, a batch at a time, measured cheaper than encoding each span as it
ends, on the request path (bench/tracing_cost.py, middleware path: +19.9% against +13.2% of
CPU per request), although the two cost the same in isolation: over a batch the encoder's
code and caches stay warm instead of alternating with the request's.

A batch the receiver could not take for now (OTLP/HTTP's retryable answers 429, 502, 503,
504, or no connection) is sent again after an exponential, jittered back-off that honours
`Retry-After`, for at most `retry_for` seconds; then it is counted as failed. Only the export
thread waits: meanwhile new spans queue up to the same bound and overflow is dropped, so
memory stays at one queue plus the batch in flight. A refusal (any other 4xx, a 5xx that is
not retryable) drops the batch at once and says so in the log.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from common.tracing.otlp import EncodedSpan, ExportableSpan, OtlpEncoder, SendOutcome

log = structlog.get_logger("toolrelay.tracing")


class BatchSender(Protocol):
    def send(self, spans: Sequence[EncodedSpan]) -> SendOutcome: ...
    def shutdown(self) -> None: ...


def _loggable(count: int) -> bool:
    """1, 2, 4, 8, ...: a log that stays readable however often it happens."""
    return count & (count - 1) == 0


class BoundedSpanProcessor(SpanProcessor):
    def __init__(
        self,
        exporter: BatchSender,
        *,
        encoder: OtlpEncoder | None = None,
        name: str = "otel",
        max_queue: int = 2048,
        batch_size: int = 512,
        interval: float = 5.0,
        retry_first: float = 1.0,
        retry_max_delay: float = 8.0,
        retry_for: float = 30.0,
    ) -> None:
        self.exporter = exporter
        self.encoder = encoder if encoder is not None else OtlpEncoder()
        self.name = name
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval = interval
        self.retry_first = retry_first
        self.retry_max_delay = retry_max_delay
        self.retry_for = retry_for
        self.dropped = 0  # queue full
        self.exported = 0
        self.failed = 0  # refused, or still not accepted after `retry_for` seconds
        self.retries = 0  # attempts after the first, over all batches
        self._refusals = 0
        self.unencodable = 0  # spans the encoder could not write (also counted in failed)
        self._queue: deque[ExportableSpan] = deque()
        self._wake = threading.Event()
        self._flush_all = False  # set by force_flush: partial batches go too
        self._idle = threading.Event()
        self._idle.set()
        self._stop = threading.Event()
        # `_stop.is_set()` for the request path: a plain read, where the Event's is a call
        self._stopped = False
        self._random = random.Random()
        self._thread = threading.Thread(
            target=self._work, name=f"toolrelay-trace-export-{name}", daemon=True
        )
        self._thread.start()

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def idle(self) -> bool:
        """No batch is being encoded or sent."""
        return self._idle.is_set()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        """A span that ends straight into this queue (an SDK provider's processor)."""
        self.enqueue(span)

    def enqueue(self, span: ExportableSpan) -> None:
        if self._stopped:
            return
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            if _loggable(self.dropped):
                log.warning("trace export queue full; spans dropped", target=self.name,
                            dropped=self.dropped)  # fmt: skip
            return
        self._queue.append(span)
        # `set` takes the event's lock and notifies: once per batch, not once per span
        # while the thread is still on its way
        if len(self._queue) >= self.batch_size and not self._wake.is_set():
            self._wake.set()

    def _work(self) -> None:
        while not self._stop.is_set():
            full_batch = self._wake.wait(self.interval)
            self._wake.clear()
            flush_all, self._flush_all = self._flush_all, False
            self._drain(full_batches_only=full_batch and not flush_all)
        self._drain()

    def _drain(self, full_batches_only: bool = False) -> None:
        """Send what is queued, a batch at a time. Woken by a full batch, it sends full
        batches only: the spans that end while a batch is sent wait for the next full one
        or the interval. Sending them at once, as it did, made batches of about 200 spans
        instead of 512 under load, and each POST costs the thread about 900 us of CPU."""
        smallest = self.batch_size if full_batches_only else 1
        self._idle.clear()
        try:
            while len(self._queue) >= smallest:
                spans = [
                    self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))
                ]
                batch = self._encoded(spans)
                if not batch:
                    continue
                if self._deliver(batch):
                    self.exported += len(batch)
                else:
                    self.failed += len(batch)
        finally:
            self._idle.set()

    def _encoded(self, spans: list[ExportableSpan]) -> list[EncodedSpan]:
        """The batch's spans, encoded. A span the encoder cannot write (an attribute value
        of a type OTLP has no encoding for, set by some library) is the one span lost:
        counted in `unencodable` and `failed`, and logged (1, 2, 4, 8, ... times)."""
        encoded = []
        for span in spans:
            try:
                encoded.append(self.encoder.encode_span(span))
            except Exception as exc:  # boundary: one bad span must not lose its batch
                self.unencodable += 1
                self.failed += 1
                if _loggable(self.unencodable):
                    log.warning("trace span not encodable; dropped", target=self.name,
                                span=span.name, error=f"{type(exc).__name__}: {exc}",
                                unencodable=self.unencodable)  # fmt: skip
        return encoded

    def _deliver(self, batch: list[EncodedSpan]) -> bool:
        """Send `batch`, again and again while the receiver says "later", within
        `retry_for` seconds. True once it is accepted."""
        give_up_at = time.monotonic() + self.retry_for
        delay = self.retry_first
        while True:
            try:
                outcome = self.exporter.send(batch)
            except Exception as exc:  # boundary: a failing exporter must not kill the thread
                outcome = SendOutcome(ok=False, detail=f"{type(exc).__name__}: {exc}")
            if outcome.ok:
                return True
            if not outcome.retry:
                self._refusals += 1
                if _loggable(self._refusals):
                    log.warning("trace batch refused; dropped", target=self.name,
                                answer=outcome.detail, spans=len(batch),
                                refusals=self._refusals)  # fmt: skip
                return False
            # Full jitter around the exponential step, never below the receiver's own ask.
            wait = delay * (0.5 + self._random.random())
            if outcome.retry_after is not None:
                wait = max(wait, outcome.retry_after)
            left = give_up_at - time.monotonic()
            if wait > left or self._stop.is_set():
                log.warning("trace batch not accepted in time; dropped", target=self.name,
                            answer=outcome.detail, spans=len(batch))  # fmt: skip
                return False
            self.retries += 1
            if self._stop.wait(wait):  # shutting down: one last try, no more waiting
                give_up_at = time.monotonic()
            delay = min(delay * 2, self.retry_max_delay)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        while time.monotonic() < deadline:
            if not self._queue and self._idle.is_set():
                return True
            self._flush_all = True
            self._wake.set()
            self._idle.wait(0.05)
        return not self._queue

    def shutdown(self) -> None:
        if self._stop.is_set():
            return
        self._stopped = True
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.exporter.shutdown()


class SpanFanout(SpanProcessor):
    """Where every finished span goes, light (`LightSpan.end`) or the SDK's (`on_end`): to
    each target's queue. The provider registers this one processor; the queues are its
    targets, and share one encoder."""

    def __init__(self, queues: Sequence[BoundedSpanProcessor]) -> None:
        self.queues = tuple(queues)
        # With one target (the usual case) a span goes straight to its queue: a call less
        # for every span that ends.
        self.finish: Callable[[ExportableSpan], None] = (
            self.queues[0].enqueue if len(self.queues) == 1 else self._to_each_queue
        )

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self.finish(span)

    def _to_each_queue(self, span: ExportableSpan) -> None:
        for queue in self.queues:
            queue.enqueue(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        return all(
            queue.force_flush(max(0, int((deadline - time.monotonic()) * 1000)))
            for queue in self.queues
        )

    def shutdown(self) -> None:
        for queue in self.queues:
            queue.shutdown()
