"""What tracing costs inside one process, without services around it: the span helpers of
one gateway request (SERVER span for a request carrying a `traceparent`, the tracing hook's
pre- and post-call, one router attempt span with its result), those of one middleware
request (SERVER span, an iteration event, one model-call span with its `traceparent` header
and its response) and the OTLP encoding per span.

    uv run python bench/tracing_spans.py [--source DIR] [--requests 5000] [--repeat 5]

`--source` runs the packages found in DIR instead of the work tree's, e.g. an older commit:
`git archive REF common gateway middleware testing tests | tar -x -C DIR`. The request path
is the CPU of the traced app minus the same app without the middleware and helpers; both
are the minimum over `--repeat` tries (the least disturbed by the rest of the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def span_helpers(module: str, name: str, span: str, record: str) -> Any:
    """`module.name`, the class a client or router makes once (`.span(...)`, `.record(...)`),
    or for a source older than it, a stand-in made of the module's `span` and `record`
    functions."""
    loaded = importlib.import_module(module)
    helpers = getattr(loaded, name, None)
    if helpers is not None:
        return helpers

    class ModuleFunctions:
        def __init__(self) -> None:
            self.span = getattr(loaded, span)
            self.record = getattr(loaded, record)

    return ModuleFunctions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(args.source.resolve()))

    from common.tracing.asgi import ServerSpanMiddleware
    from common.tracing.otlp import OtlpEncoder
    from common.tracing.provider import install_tracing
    from common.tracing.settings import OtlpTarget, TracingSettings
    from gateway.deployments import Deployment
    from gateway.tracing.hook import TracingHook
    from middleware.tracing import mark_iteration

    attempt_tracing = span_helpers(
        "gateway.tracing.router", "AttemptTracing", "attempt_span", "record_attempt_result"
    )
    model_calls = span_helpers(
        "middleware.tracing", "ModelCallTracing", "model_call_span", "record_model_response"
    )

    headers_writer: Any
    try:
        from common.tracing.propagation import TraceHeaderWriter

        headers_writer = TraceHeaderWriter()
    except ImportError:  # a source older than it
        from common.tracing import inject_trace_headers as headers_writer

    # An endpoint nothing listens on: the spans are kept here, not exported.
    settings = TracingSettings(
        service_name="bench", targets=(OtlpTarget("otel", "http://127.0.0.1:9/v1/traces"),)
    )
    provider = install_tracing(settings)
    assert provider is not None
    finished: list[Any] = []

    class Keep:  # where light spans end: kept here, encoded below (not on the request path)
        finish = enqueue = on_end = staticmethod(finished.append)

    if hasattr(provider, "fanout"):  # spans encoded as they end (the fan-out)
        provider.fanout = Keep()  # type: ignore[assignment]
    else:  # older code: spans queued by the processors, encoded by the export thread
        queue: Any = provider.processors[0]
        queue.on_end = queue.enqueue = finished.append
    # after the fan-out is swapped: their tracers are made now
    model_call, attempts = model_calls(), attempt_tracing()
    deployment = Deployment(
        id="d", model_name="m", provider="openai", model="gpt", api_base="http://x/v1"
    )
    hook = TracingHook(settings)

    class Principal:
        token, key_alias, team_id, user_id = "t", None, None, None

    class Record:
        call_type, model_group, request_id = "chat", "m", "r" * 32
        body: dict[str, Any] = {"model": "m", "messages": []}
        principal = Principal()
        prompt_tokens, completion_tokens, cache_hit = 1, 2, False
        status, error_type = "success", None

    record: Any = Record()
    record.deployment = deployment
    result = {
        "id": "x",
        "model": "gpt",
        "choices": [{"finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2},
    }

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await hook.pre_call(record)
        with attempts.span("m", deployment, 0, 0) as span:
            attempts.record(span, result)
        await hook.post_call(record)
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    traced = ServerSpanMiddleware(app, tracer_name="toolrelay.gateway")
    chat_body: Any = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

    async def middleware_app(scope: Any, receive: Any, send: Any) -> None:
        mark_iteration(1)
        with model_call.span(chat_body) as span:
            headers_writer({"content-type": "application/json", "authorization": "Bearer x"})
            model_call.record(span, result)
        await send({"type": "http.response.start", "status": 200, "headers": []})

    middleware = ServerSpanMiddleware(middleware_app, tracer_name="toolrelay.middleware")
    scope = {
        "type": "http",
        "path": "/v1/chat/completions",
        "method": "POST",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer sk-x"),
            (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ],
    }

    async def send(message: Any) -> None:
        return None

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def run(count: int, target: Any) -> None:
        for _ in range(count):
            await target(scope, receive, send)

    def cpu(target: Any) -> float:
        started = time.process_time()
        asyncio.run(run(args.requests, target))
        return time.process_time() - started

    asyncio.run(run(500, traced))
    path = min(cpu(traced) - cpu(bare) for _ in range(args.repeat)) / args.requests * 1e6
    spans = finished[-2 * args.requests :]
    client_scope = {**scope, "headers": scope["headers"][:2]}  # a client sends no traceparent

    async def run_client(count: int, target: Any) -> None:
        for _ in range(count):
            await target(client_scope, receive, send)

    def client_cpu(target: Any) -> float:
        started = time.process_time()
        asyncio.run(run_client(args.requests, target))
        return time.process_time() - started

    asyncio.run(run_client(500, middleware))
    cost = min(client_cpu(middleware) - client_cpu(bare) for _ in range(args.repeat))
    middleware_path = cost / args.requests * 1e6
    spans += finished[-2 * args.requests :]
    encoder = OtlpEncoder()
    encoded = []
    for _ in range(args.repeat):
        started = time.process_time()
        for i in range(0, len(spans), 256):
            encoder.encode(spans[i : i + 256])
        encoded.append((time.process_time() - started) / len(spans) * 1e6)
    print(f"source {args.source}: gateway request path {path:.1f} us per request (2 spans), "
          f"middleware's {middleware_path:.1f} us (2 spans, 1 event), "
          f"encoding {min(encoded):.1f} us per span (min of {args.repeat})")  # fmt: skip


if __name__ == "__main__":
    main()
