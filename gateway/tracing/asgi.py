"""Pure ASGI middleware: one SERVER span per HTTP request, continuing the caller's trace.

The W3C `traceparent` (and `tracestate`) headers are read with the globally configured
propagator, so a request the middleware sends to the gateway is a child of the middleware's
model-call span. Health and metrics paths are not traced. With no tracer provider installed
this middleware passes requests straight through.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.tracing.provider import active_settings

QUIET_PATHS = frozenset(
    {"/health", "/health/liveliness", "/health/readiness", "/metrics", "/healthz"}
)


class _ScopeHeaders(Getter[Scope]):
    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


SCOPE_HEADERS = _ScopeHeaders()


class ServerSpanMiddleware:
    def __init__(
        self, app: ASGIApp, *, tracer_name: str, quiet_paths: Iterable[str] = QUIET_PATHS
    ) -> None:
        self.app = app
        self.tracer = trace.get_tracer(tracer_name)
        self.quiet_paths = frozenset(quiet_paths)
        self.enabled = active_settings() is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["path"] in self.quiet_paths:
            await self.app(scope, receive, send)
            return
        parent = propagate.extract(scope, getter=SCOPE_HEADERS)
        method, path = scope["method"], scope["path"]
        with self.tracer.start_as_current_span(
            f"{method} {path}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_with_status)
