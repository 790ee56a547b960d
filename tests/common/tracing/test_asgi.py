"""The SERVER span's response status: read from the scope where an inner middleware noted it
(and then `send` reaches the app unwrapped), or recorded by its own `send` wrapper."""

from __future__ import annotations

import contextlib

import pytest
from opentelemetry.trace import StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.asgi_status import note_response_status, noted_response_status
from common.tracing import ServerSpanMiddleware
from common.tracing.sdk_provider import ToolrelayTracerProvider
from common.tracing.settings import OtlpTarget, TracingSettings
from tests.support.otlp_receiver import ReceivedSpan, running_receiver

pytestmark = pytest.mark.anyio


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


def _scope(path: str) -> Scope:
    return {"type": "http", "path": path, "method": "POST", "headers": []}


async def _served(
    app: ASGIApp, path: str, status_noted_inside: bool, send: Send | None = None
) -> ReceivedSpan:
    """`app` behind a traced `ServerSpanMiddleware`: the one span it exported."""

    async def discard(message: Message) -> None:
        return None

    with running_receiver() as receiver:
        provider = ToolrelayTracerProvider(
            TracingSettings(
                service_name="asgi-test", targets=(OtlpTarget("otel", receiver.endpoint),)
            )
        )
        middleware = ServerSpanMiddleware(
            app, tracer_name="test", status_noted_inside=status_noted_inside
        )
        middleware.tracer = provider.light_tracer("test.asgi")
        with contextlib.suppress(RuntimeError):  # the failing app's: its span is looked at
            await middleware(_scope(path), _receive, send or discard)
        assert provider.force_flush(30_000)
        (span,) = receiver.wait_for(lambda got: len(got) >= 1)
        provider.shutdown()
    return span


def _noting_app(status: int, sends: list[Send], fail_after_start: bool = False) -> ASGIApp:
    """An app whose own `send` wrapper notes the status, as the request middlewares do."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        sends.append(send)
        note_response_status(scope, status)
        await send({"type": "http.response.start", "status": status, "headers": []})
        if fail_after_start:
            raise RuntimeError("stream broke")
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def test_a_status_noted_inside_goes_on_the_span_and_send_is_not_wrapped() -> None:
    sends: list[Send] = []
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    span = await _served(_noting_app(503, sends), "/v1/chat/completions", True, send)
    assert sends == [send]  # no wrapper: a call less for every message of the response
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert span.kind == "SERVER" and span.name == "POST /v1/chat/completions"
    assert span.attributes["http.response.status_code"] == 503
    assert span.status_code == StatusCode.ERROR.value


async def test_a_noted_success_leaves_the_status_unset() -> None:
    span = await _served(_noting_app(200, []), "/v1/models", True)
    assert span.attributes["http.response.status_code"] == 200
    assert span.status_code == StatusCode.UNSET.value


async def test_a_failure_after_the_response_started_keeps_its_status() -> None:
    span = await _served(_noting_app(200, [], fail_after_start=True), "/v1/chat/completions", True)
    assert span.attributes["http.response.status_code"] == 200
    assert span.status_code == StatusCode.ERROR.value  # the exception's
    assert [name for name, _ in span.events] == ["exception"]


async def test_without_an_inner_note_the_span_records_the_status_from_send() -> None:
    """The MCP servers' span: no middleware inside notes the status, so it wraps `send`."""
    sends: list[Send] = []

    async def plain_app(scope: Scope, receive: Receive, send: Send) -> None:
        sends.append(send)
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    span = await _served(plain_app, "/mcp", False)
    assert len(sends) == 1 and callable(sends[0])
    assert span.attributes["http.response.status_code"] == 502
    assert span.status_code == StatusCode.ERROR.value


async def test_a_response_that_never_started_has_no_status_attribute() -> None:
    async def silent_app(scope: Scope, receive: Receive, send: Send) -> None:
        assert noted_response_status(scope) is None

    span = await _served(silent_app, "/v1/chat/completions", True)
    assert "http.response.status_code" not in span.attributes


def test_the_note_is_read_back_from_the_same_scope() -> None:
    scope = _scope("/x")
    note_response_status(scope, 429)
    assert noted_response_status(scope) == 429
    assert noted_response_status(_scope("/y")) is None
