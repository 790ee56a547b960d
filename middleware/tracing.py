"""The middleware's spans: loop iterations, model calls to the gateway and MCP tool calls,
and the W3C trace headers that carry the trace on to the gateway and the MCP servers.

The spans are light spans (`common.tracing.light`) on the process's tracer provider
(installed in `serve()`); with tracing off each helper returns one shared do-nothing `with`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager

import httpx2
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from common.chat import ChatRequest
from common.config import ConfigDocument
from common.tracing import (
    NO_SPAN,
    TraceHeaderWriter,
    TracingKeys,
    active_settings,
    genai,
    start_tracing,
)
from common.tracing.light import LightSpan, current_span, light_tracer

MIDDLEWARE_SERVICE = "toolrelay-middleware"
TRACER_NAME = "toolrelay.middleware"


def start_middleware_tracing(document: ConfigDocument) -> object | None:
    """Install the tracer provider from the file's `litellm_settings` (as the gateway does)."""
    return start_tracing(
        TracingKeys.from_section(document.section("litellm_settings"), document.where),
        MIDDLEWARE_SERVICE,
    )


RequestHook = Callable[[httpx2.Request], Awaitable[None]]


def trace_header_hooks() -> list[RequestHook]:
    """httpx2 request hooks for an MCP HTTP client: `traceparent` (and `tracestate`) from the
    current span, written as our other clients write it (`TraceHeaderWriter`), when tracing
    is on; none when it is off, where the propagators would only find nothing to write. The
    MCP SDK sends each message in its sender's context, so the current span here is the tool
    call's. Called when a client is made, after `serve()` installed the provider."""
    if active_settings() is None:
        return []
    write = TraceHeaderWriter()

    async def stamp_trace_headers(request: httpx2.Request) -> None:
        write(request.headers)

    return [stamp_trace_headers]


def mark_iteration(number: int) -> None:
    """An event on the request's span: iterations are moments of one request, not spans of
    their own (each span costs CPU on the request path and in the export)."""
    span = current_span()
    if span.is_recording():
        span.add_event("iteration", {"toolrelay.loop.iteration": number})


class ModelCallTracing:
    """The CLIENT spans of one gateway client's calls; each call's `traceparent` goes in its
    request. The tracer and the settings are looked up once, when the client is made (after
    `serve()` installed the provider), not for every call."""

    def __init__(self) -> None:
        self.tracer = light_tracer(TRACER_NAME)
        self.settings = active_settings()

    def span(self, request: ChatRequest) -> AbstractContextManager[Span]:
        tracer, settings = self.tracer, self.settings
        if tracer is None or settings is None:
            return NO_SPAN
        model = request["model"]
        current = tracer.start_as_current(
            f"chat {model}",
            kind=SpanKind.CLIENT,
            # the gateway's span of this request is Langfuse's generation
            attributes={
                genai.OPERATION: "chat",
                genai.REQUEST_MODEL: str(model),
                **genai.NOT_A_GENERATION,
            },
        )
        span = current.span
        if type(span) is LightSpan:  # just started: it records (an unsampled one does not)
            # The request's user, session and tags only for a span that keeps them (a
            # sampler sees the operation and the model); most requests have none.
            found = genai.trace_attributes(request, settings.default_tags)
            if found:
                span.set_attributes(found)
            if settings.record_content:
                genai.record_prompt(span, request)
        return current

    def record(self, span: Span, response: Mapping[str, object]) -> None:
        """The response's model, id, finish reasons and usage (and content, when on), on the
        span `span()` made: a light one records until it ends, any other does not."""
        if type(span) is not LightSpan or span.end_time is not None:
            return
        span.set_attributes(genai.response_attributes(response))
        if self.settings is not None and self.settings.record_content:
            genai.record_completion(span, response)


def tool_span(server: str, tool: str) -> AbstractContextManager[Span]:
    tracer = light_tracer(TRACER_NAME)
    if tracer is None:
        return NO_SPAN
    return tracer.start_as_current(
        f"execute_tool {tool}",
        kind=SpanKind.INTERNAL,
        attributes={
            genai.OPERATION: "execute_tool",
            genai.TOOL_NAME: tool,
            "toolrelay.mcp.server": server,
        },
    )


def record_tool_outcome(span: Span, outcome: str) -> None:
    if not span.is_recording():
        return
    if outcome == "ok":
        span.set_attribute("toolrelay.tool.outcome", outcome)
        return
    span.set_attributes({"toolrelay.tool.outcome": outcome, "error.type": outcome})
    span.set_status(Status(StatusCode.ERROR, outcome))
