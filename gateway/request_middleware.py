"""Pure ASGI middleware: request id, overhead header, and one access-log line per request."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.asgi_status import note_response_status, noted_response_status
from common.logs import EventLog
from gateway.context import RequestContext, bind_context, unbind_context
from gateway.ids import uuid4_hex

REQUEST_ID_HEADER = b"x-request-id"
OVERHEAD_HEADER = b"x-litellm-overhead-duration-ms"
_MAX_REQUEST_ID = 128


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        self.log = EventLog("toolrelay.gateway.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid4_hex()
        ctx = RequestContext(request_id=request_id, client_headers=scope["headers"])
        token = bind_context(ctx)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # read back by the access-log line below and by the request's SERVER span
                note_response_status(scope, message["status"])
                headers = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                    (OVERHEAD_HEADER, f"{ctx.overhead_ms():.3f}".encode()),
                ]
                if ctx.response_headers:
                    headers += [(n.encode(), v.encode()) for n, v in ctx.response_headers.items()]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            unbind_context(token)
            if self.access_log and scope["path"] not in _QUIET_PATHS:
                status = noted_response_status(scope)
                self._log(scope, ctx, 500 if status is None else status)

    def _log(self, scope: Scope, ctx: RequestContext, status: int) -> None:
        latency_ms = (time.perf_counter() - ctx.started) * 1000
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "latency_ms": round(latency_ms, 2),
            "request_id": ctx.request_id,
        }
        call = ctx.call
        if call is not None:
            deployment = call.deployment
            fields.update(
                model=call.model_group,
                deployment=deployment.id if deployment is not None else None,
                provider=deployment.provider if deployment is not None else None,
                stream=call.stream,
                prompt_tokens=call.prompt_tokens,
                completion_tokens=call.completion_tokens,
                upstream_ms=round(call.upstream_seconds * 1000, 2),
            )
        if ctx.error is not None:
            fields["error"] = ctx.error
        self.log.info("request", fields)


_QUIET_PATHS = frozenset({"/health/liveliness", "/health/readiness", "/metrics"})


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1").strip()
            if 0 < len(text) <= _MAX_REQUEST_ID and text.isprintable():
                return text
    return None
