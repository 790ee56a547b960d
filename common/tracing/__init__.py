"""OpenTelemetry tracing that every service shares: where traces go (`settings`), the
tracer provider and its never-blocking export, the SERVER span per HTTP request, W3C
context propagation, and the GenAI attribute vocabulary.

Each service adds only its own spans: the gateway its hook and router attempts
(`gateway.tracing`), the middleware its loop, model and tool calls (`middleware.tracing`),
the MCP servers the JSON-RPC method on their server span (`mcp_servers._tracing`).
"""

from common.tracing.asgi import ServerSpanMiddleware
from common.tracing.propagation import (
    TraceHeaderWriter,
    context_from_scope,
    inject_trace_headers,
)
from common.tracing.provider import NO_SPAN, active_settings, install_tracing, start_tracing
from common.tracing.settings import OtlpTarget, TracingKeys, TracingSettings, tracing_settings

__all__ = [
    "NO_SPAN",
    "OtlpTarget",
    "ServerSpanMiddleware",
    "TraceHeaderWriter",
    "TracingKeys",
    "TracingSettings",
    "active_settings",
    "context_from_scope",
    "inject_trace_headers",
    "install_tracing",
    "start_tracing",
    "tracing_settings",
]
