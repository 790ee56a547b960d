"""Pure ASGI middleware: one SERVER span per HTTP request, continuing the caller's trace.

The caller's W3C `traceparent` is read from the request (see `propagation`), so a request the
middleware sends to the gateway is a child of the middleware's model-call span. Health and
metrics paths are not traced. With no tracer provider installed this middleware passes
requests straight through: the hot path pays one attribute check, nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping

from opentelemetry.context import Context
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation import _SPAN_KEY
from opentelemetry.util.types import AttributeValue
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.asgi_status import noted_response_status
from common.tracing.light import (
    LightSpan,
    attach_context,
    current_span,
    detach_context,
    end_span,
    light_tracer,
    with_span,
)
from common.tracing.propagation import ScopeContextReader, has_trace_parent

QUIET_PATHS = frozenset(
    {"/health", "/health/liveliness", "/health/readiness", "/metrics", "/healthz"}
)


class ServerSpanMiddleware:
    """`traced_callers_only`: open a span only for requests that carry a `traceparent` (the
    MCP servers: session set-up, pings and tool listing belong to no user request).

    `status_noted_inside`: a middleware inside this one notes the response's status in the
    scope (`common.asgi_status`), and the span reads it there when the app returns, instead
    of wrapping `send`: a call less for every message of the response (every chunk of a
    streamed answer)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracer_name: str,
        quiet_paths: Iterable[str] = QUIET_PATHS,
        traced_callers_only: bool = False,
        attributes: Mapping[str, AttributeValue] | None = None,
        status_noted_inside: bool = False,
    ) -> None:
        self.app = app
        self.status_noted_inside = status_noted_inside
        self.tracer = light_tracer(tracer_name)  # None with tracing off
        self.quiet_paths = frozenset(quiet_paths)
        self.traced_callers_only = traced_callers_only
        self.attributes = dict(attributes or {})
        self.caller = ScopeContextReader()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.tracer is None
            or scope["type"] != "http"
            or scope["path"] in self.quiet_paths
            or (self.traced_callers_only and not has_trace_parent(scope))
        ):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        name = f"{method} {path}"
        attributes = {**self.attributes, "http.request.method": method, "url.path": path}
        parent = self.caller.parent(scope)
        if isinstance(parent, SpanContext):  # a plain traceparent, or none: the common case
            span = self.tracer.start_under(
                name, parent, kind=SpanKind.SERVER, attributes=attributes
            )
            # current in a context of its own, as under the caller's (the remote parent's,
            # which it replaces)
            context = Context({_SPAN_KEY: span})
        else:  # baggage, other propagators: their whole context is kept
            span = self.tracer.start_under(
                name, current_span(parent).get_span_context(), kind=SpanKind.SERVER,
                attributes=attributes, context=parent,
            )  # fmt: skip
            context = with_span(span, parent)
        # An unsampled request's span (not a light one) records nothing: its status is not
        # read. A light span has just started: it records.
        light = span if type(span) is LightSpan else None
        if light is not None and not self.status_noted_inside:
            send = StatusRecorder(send, light)
        reads_noted_status = light if self.status_noted_inside else None
        # What `CurrentSpan` does, written out: this runs for every request.
        token = attach_context(context)
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            detach_context(token)
            if reads_noted_status is not None:
                _record_status(reads_noted_status, noted_response_status(scope))
            end_span(span, exc)
            raise
        detach_context(token)
        if reads_noted_status is not None:
            _record_status(reads_noted_status, noted_response_status(scope))
        span.end()


def _record_status(span: LightSpan, status: int | None) -> None:
    """The response's status on the span; a 5xx marks it as an error."""
    if status is None:  # the response never started
        return
    span.attributes["http.response.status_code"] = status
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


class StatusRecorder:
    """The ASGI `send` of one traced request: the response's status goes on its span (a
    5xx marks the span as an error), then the message goes on unchanged.

    A plain function that returns the app's own `send(message)` for its caller to await:
    no coroutine of its own is made and resumed for every message of the response."""

    __slots__ = ("send", "span")

    def __init__(self, send: Send, span: LightSpan) -> None:
        self.send = send
        self.span = span

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            _record_status(self.span, int(message["status"]))
        return self.send(message)
