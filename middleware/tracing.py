"""The middleware's spans: loop iterations, model calls to the gateway and MCP tool calls,
and the W3C trace headers that carry the trace on to the gateway and the MCP servers.

Each helper is a thin wrapper over the process's tracer provider (installed in `serve()`);
with tracing off they are OpenTelemetry's no-op spans.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, cast

import httpx2
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from common.chat import ChatRequest
from gateway.tracing import active_settings, genai

# The API's proxy tracer: resolves the installed provider on first use, then caches it.
TRACER = trace.get_tracer("toolrelay.middleware")


def inject_trace_headers(headers: MutableMapping[str, str]) -> None:
    """Add `traceparent` (and `tracestate`) for the current span, if there is one."""
    propagate.inject(headers)


async def stamp_trace_headers(request: httpx2.Request) -> None:
    """httpx2 request hook for the MCP HTTP client. The MCP SDK sends each message in its
    sender's context, so the current span here is the tool call's."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    for name, value in carrier.items():
        request.headers[name] = value


@contextmanager
def iteration_span(number: int) -> Iterator[Span]:
    with TRACER.start_as_current_span(
        f"iteration {number}", attributes={"toolrelay.loop.iteration": number}
    ) as span:
        yield span


@contextmanager
def model_call_span(request: ChatRequest) -> Iterator[Span]:
    """A CLIENT span around one gateway call; its `traceparent` goes in the request."""
    model = request["model"]
    settings = active_settings()
    with TRACER.start_as_current_span(
        f"chat {model}",
        kind=SpanKind.CLIENT,
        attributes={genai.OPERATION: "chat", genai.REQUEST_MODEL: model},
    ) as span:
        if span.is_recording():
            # the gateway's helpers read any body (chat, completion, embedding) as a plain dict
            body = cast(dict[str, Any], request)
            tags = settings.default_tags if settings is not None else ()
            span.set_attributes(genai.trace_attributes(body, tags))
            if settings is not None and settings.record_content:
                genai.record_prompt(span, body)
        yield span


def record_model_response(span: Span, response: Mapping[str, object]) -> None:
    if not span.is_recording():
        return
    span.set_attributes(genai.response_attributes(response))
    settings = active_settings()
    if settings is not None and settings.record_content:
        genai.record_completion(span, response)


@contextmanager
def tool_span(server: str, tool: str) -> Iterator[Span]:
    with TRACER.start_as_current_span(
        f"execute_tool {tool}",
        kind=SpanKind.INTERNAL,
        attributes={
            genai.OPERATION: "execute_tool",
            genai.TOOL_NAME: tool,
            "toolrelay.mcp.server": server,
        },
    ) as span:
        yield span


def record_tool_outcome(span: Span, outcome: str) -> None:
    if not span.is_recording():
        return
    span.set_attribute("toolrelay.tool.outcome", outcome)
    if outcome != "ok":
        span.set_status(Status(StatusCode.ERROR, outcome))
        span.set_attribute("error.type", outcome)
