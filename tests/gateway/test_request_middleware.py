"""The gateway's request-context middleware: the status its access-log line names, and the
one it notes in the scope for the request's SERVER span, are the response's own; 500 when
the app failed before answering."""

from __future__ import annotations

import contextlib

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.asgi_status import noted_response_status
from gateway.request_middleware import RequestContextMiddleware

pytestmark = pytest.mark.anyio


def _answering(status: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def _failing(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("failed before answering")


async def _served(app: ASGIApp) -> tuple[Scope, list[int], list[Message]]:
    logged: list[int] = []
    sent: list[Message] = []
    middleware = RequestContextMiddleware(app)
    middleware._log = lambda scope, ctx, status: logged.append(status)  # type: ignore[method-assign]

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": "/v1/chat/completions", "method": "POST",
                    "headers": []}  # fmt: skip
    with contextlib.suppress(RuntimeError):  # the failing app's, looked at through the log
        await middleware(scope, receive, send)
    return scope, logged, sent


@pytest.mark.parametrize("status", [200, 429, 503])
async def test_the_access_line_and_the_scope_name_the_answers_status(status: int) -> None:
    scope, logged, sent = await _served(_answering(status))
    assert logged == [status]
    assert noted_response_status(scope) == status
    start = sent[0]
    assert dict(start["headers"])[b"x-request-id"]  # the middleware's own header still added


async def test_an_app_that_fails_before_answering_is_logged_as_500() -> None:
    scope, logged, sent = await _served(_failing)
    assert logged == [500]
    assert noted_response_status(scope) is None and sent == []
