"""A span processor whose export can never block or slow a request.

Finished spans go into a bounded queue; one background thread sends them in batches. When
the queue is full (the receiver is down or slow), new spans are dropped and counted instead
of waiting: the request path only ever appends to a deque.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import structlog
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = structlog.get_logger("toolrelay.tracing")


class BoundedSpanProcessor(SpanProcessor):
    def __init__(
        self,
        exporter: SpanExporter,
        *,
        name: str = "otel",
        max_queue: int = 2048,
        batch_size: int = 256,
        interval: float = 1.0,
    ) -> None:
        self.exporter = exporter
        self.name = name
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval = interval
        self.dropped = 0
        self.exported = 0
        self.failed = 0  # handed to the exporter, refused or unreachable receiver
        self._queue: deque[ReadableSpan] = deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._work, name=f"toolrelay-trace-export-{name}", daemon=True
        )
        self._thread.start()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if self._stopping:
            return
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # 1, 2, 4, 8, ...: readable, not a flood
                log.warning("trace export queue full; spans dropped", target=self.name,
                            dropped=self.dropped)  # fmt: skip
            return
        self._queue.append(span)
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    def _work(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._drain()
        self._drain()

    def _drain(self) -> None:
        self._idle.clear()
        try:
            while self._queue:
                batch = [
                    self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))
                ]
                try:
                    result = self.exporter.export(batch)
                except Exception as exc:  # boundary: a failing receiver must not kill the thread
                    log.warning("trace export failed", target=self.name, error=str(exc))
                    result = SpanExportResult.FAILURE
                if result is SpanExportResult.SUCCESS:
                    self.exported += len(batch)
                else:
                    self.failed += len(batch)
        finally:
            self._idle.set()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        while time.monotonic() < deadline:
            if not self._queue and self._idle.is_set():
                return True
            self._wake.set()
            self._idle.wait(0.05)
        return not self._queue

    def shutdown(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=10)
        self.exporter.shutdown()
