"""The middleware's spans: loop iterations, model calls to the gateway and MCP tool calls,
and the W3C trace headers that carry the trace on to the gateway and the MCP servers.

Each helper is a thin wrapper over the process's tracer provider (installed in `serve()`);
with tracing off they are OpenTelemetry's no-op spans.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from common.config import ConfigDocument
from common.tracing import TracingKeys, active_settings, genai, inject_trace_headers, start_tracing

MIDDLEWARE_SERVICE = "toolrelay-middleware"
# The API's proxy tracer: resolves the installed provider on first use, then caches it.
TRACER = trace.get_tracer("toolrelay.middleware")
JSON = dict[str, Any]


def start_middleware_tracing(document: ConfigDocument) -> object | None:
    """Install the tracer provider from the file's `litellm_settings` (as the gateway does)."""
    return start_tracing(
        TracingKeys.from_section(document.section("litellm_settings"), document.where),
        MIDDLEWARE_SERVICE,
    )


async def stamp_trace_headers(request: httpx2.Request) -> None:
    """httpx2 request hook for the MCP HTTP client. The MCP SDK sends each message in its
    sender's context, so the current span here is the tool call's."""
    carrier: dict[str, str] = {}
    inject_trace_headers(carrier)
    for name, value in carrier.items():
        request.headers[name] = value


@contextmanager
def iteration_span(number: int) -> Iterator[Span]:
    with TRACER.start_as_current_span(
        f"iteration {number}", attributes={"toolrelay.loop.iteration": number}
    ) as span:
        yield span


@contextmanager
def model_call_span(body: JSON) -> Iterator[Span]:
    """A CLIENT span around one gateway call; its `traceparent` goes in the request."""
    model = body.get("model") if isinstance(body.get("model"), str) else ""
    settings = active_settings()
    with TRACER.start_as_current_span(
        f"chat {model}",
        kind=SpanKind.CLIENT,
        attributes={genai.OPERATION: "chat", genai.REQUEST_MODEL: str(model)},
    ) as span:
        if span.is_recording():
            tags = settings.default_tags if settings is not None else ()
            span.set_attributes(genai.trace_attributes(body, tags))
            if settings is not None and settings.record_content:
                genai.record_prompt(span, body)
        yield span


def record_model_response(span: Span, response: JSON) -> None:
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
