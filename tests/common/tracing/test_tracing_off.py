"""With tracing off (no provider installed) the request path runs no tracing code: the span
helpers hand back one shared do-nothing `with`, the gateway gets no tracing hook and the
SERVER-span middleware passes requests straight through."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN
from starlette.types import Message, Receive, Scope, Send

from common.tracing import NO_SPAN, ServerSpanMiddleware, active_settings
from gateway.deployments import Deployment
from gateway.tracing import tracing_hooks
from gateway.tracing.router import AttemptTracing
from middleware.tracing import ModelCallTracing, mark_iteration, tool_span


def test_no_provider_no_tracing_code_on_the_request_path() -> None:
    assert active_settings() is None
    assert tracing_hooks() == []
    deployment = Deployment(id="d", model_name="m", provider="openai", model="gpt")
    assert AttemptTracing().span("m", deployment, 0, 0) is NO_SPAN
    assert ModelCallTracing().span({"model": "m", "messages": []}) is NO_SPAN
    assert tool_span("postgres", "execute_sql") is NO_SPAN
    with NO_SPAN as span:
        assert span is INVALID_SPAN
        mark_iteration(1)  # nothing to mark it on
    assert trace.get_current_span() is INVALID_SPAN


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})


@pytest.mark.anyio
async def test_server_span_middleware_passes_through() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    middleware = ServerSpanMiddleware(_app, tracer_name="test")
    assert middleware.tracer is None
    scope: Scope = {"type": "http", "path": "/v1/chat/completions", "method": "POST", "headers": []}
    await middleware(scope, receive, send)
    assert sent == [{"type": "http.response.start", "status": 200, "headers": []}]
