"""A small OTLP/HTTP trace receiver for tests: decodes protobuf export requests with the
`opentelemetry-proto` package and keeps the spans.

It can require an `Authorization` header (as Langfuse's OTLP endpoint does: basic auth from
the key pair), can be made slow: `hold()` keeps every export request waiting until
`release()`, like a receiver that stopped answering, and can be told how to answer the next
requests (`answer_next(503, 503, retry_after="0")`): those are refused without keeping
their spans, as an overloaded collector would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.support.processes import free_port

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service: str
    attributes: dict[str, Any]
    events: tuple[tuple[str, dict[str, Any]], ...]
    status_code: int


@dataclass
class OtlpReceiver:
    port: int
    path: str = "/v1/traces"
    required_auth: str | None = None
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    rejected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gate: threading.Event = field(default_factory=threading.Event)
    _scripted: list[int] = field(default_factory=list)
    retry_after: str | None = None
    refused: int = 0  # requests answered from the script

    def answer_next(self, *statuses: int, retry_after: str | None = None) -> None:
        with self._lock:
            self._scripted.extend(statuses)
            self.retry_after = retry_after

    def scripted_answer(self) -> int | None:
        with self._lock:
            if not self._scripted:
                return None
            self.refused += 1
            return self._scripted.pop(0)

    def __post_init__(self) -> None:
        self._gate.set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.base_url + self.path

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def accept(self, body: bytes, authorization: str | None) -> bool:
        if self.required_auth is not None and authorization != self.required_auth:
            with self._lock:
                self.rejected += 1
            return False
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        found: list[ReceivedSpan] = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        ReceivedSpan(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            name=span.name,
                            kind=KINDS.get(span.kind, str(span.kind)),
                            service=str(resource.get("service.name", "")),
                            attributes={a.key: _value(a.value) for a in span.attributes},
                            events=tuple(
                                (e.name, {a.key: _value(a.value) for a in e.attributes})
                                for e in span.events
                            ),
                            status_code=span.status.code,
                        )
                    )
        with self._lock:
            self.requests += 1
            self.spans.extend(found)
        return True

    def snapshot(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)

    def wait_for(
        self, condition: Callable[[list[ReceivedSpan]], bool], timeout: float = 30.0
    ) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.snapshot()
            if condition(spans):
                return spans
            time.sleep(0.05)
        spans = self.snapshot()
        names = sorted({(s.service, s.name) for s in spans})
        raise TimeoutError(f"spans not received within {timeout}s; have {names}")


def _handler(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            receiver._gate.wait(60)
            if self.path != receiver.path:
                self.send_response(404)
                self.end_headers()
                return
            scripted = receiver.scripted_answer()
            if scripted is not None:
                self.send_response(scripted)
                if receiver.retry_after is not None:
                    self.send_header("retry-after", receiver.retry_after)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if not receiver.accept(body, self.headers.get("authorization")):
                self.send_response(401)
                self.end_headers()
                return
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def running_receiver(
    *, path: str = "/v1/traces", required_auth: str | None = None, port: int | None = None
) -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver(port=port or free_port(), path=path, required_auth=required_auth)
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
        thread.join(10)
