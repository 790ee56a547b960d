"""The MCP servers' side of a trace: a SERVER span per MCP HTTP request that carries a
W3C `traceparent` (as a child of the caller's tool-call span), named after its JSON-RPC
method and tool (`mcp postgres tools/call execute_sql`).

The span, the provider and the export switches are `common.tracing`, as in the gateway and
the middleware: the `otel` callback or the standard `OTEL_*` variables, and the `langfuse`
callback with `LANGFUSE_*` or the file's `langfuse_*` keys. Only the naming is MCP's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.config import ConfigError as CommonConfigError
from common.config import read_document
from common.tracing import ServerSpanMiddleware, TracingKeys, start_tracing
from common.tracing.genai import LANGFUSE_OBSERVATION_TYPE, OPERATION, TOOL_NAME
from mcp_servers._config import ConfigError

TRACER = "toolrelay.mcp_servers"
_MAX_PEEK = 64 * 1024  # only the start of a body is needed to name the span


def install_tracing(server_name: str, config_path: str | None) -> object | None:
    """Start tracing from the file's `litellm_settings` (a missing file: the environment's
    switches alone; the server's own settings loader has said it is missing)."""
    path = config_path if config_path and Path(config_path).is_file() else None
    try:
        document = read_document(path)
        keys = TracingKeys.from_section(document.section("litellm_settings"), document.where)
    except CommonConfigError as exc:
        raise ConfigError(str(exc)) from None  # the CLI's error: a message, no traceback
    return start_tracing(keys, f"toolrelay-mcp-{server_name}")


def describe(body: bytes) -> tuple[str, dict[str, AttributeValue]]:
    """The span name and attributes for a JSON-RPC request body ("" when it is not one)."""
    try:
        message: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", {}
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return "", {}
    method: str = message["method"]
    attributes: dict[str, AttributeValue] = {"mcp.method.name": method}
    params = message.get("params")
    tool = params.get("name") if isinstance(params, dict) else None
    if method == "tools/call" and isinstance(tool, str):
        attributes[TOOL_NAME] = tool
        attributes[OPERATION] = "execute_tool"
        # The caller's span of the call (the middleware's `execute_tool`) is Langfuse's tool
        # observation; this one, inside it, is shown as a plain span: one tool per call.
        attributes[LANGFUSE_OBSERVATION_TYPE] = "span"
        return f"{method} {tool}", attributes
    return method, attributes


class McpSpanNaming:
    """Names the current SERVER span after the JSON-RPC message, read from the request body
    as it streams through (nothing is buffered or delayed)."""

    def __init__(self, app: ASGIApp, *, server_name: str) -> None:
        self.app = app
        self.server_name = server_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        if scope["type"] != "http" or not span.is_recording():
            await self.app(scope, receive, send)
            return
        peeked = bytearray()
        named = False

        async def peeking_receive() -> Message:
            nonlocal named
            message = await receive()
            if not named and message["type"] == "http.request":
                if len(peeked) < _MAX_PEEK:
                    peeked.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    named = True
                    name, attributes = describe(bytes(peeked))
                    if name:
                        span.update_name(f"mcp {self.server_name} {name}")
                        span.set_attributes(attributes)
            return message

        await self.app(scope, peeking_receive, send)


def drop_sdk_spans(server: MCPServer[Any]) -> None:
    """Take the MCP SDK's own span middleware out of `server`'s chain, as the SDK says to opt
    out. Our ASGI span covers each traced request; the SDK's spans are not recorded anyway
    (`common.tracing.sdk_provider.REPEATED_INSTRUMENTATION`), but its middleware would still
    run for every message, traced or not, tracing on or off: the `_meta` carrier read by the
    propagators, a context switch, an attributes dict."""
    server.middleware[:] = [
        layer for layer in server.middleware if not isinstance(layer, OpenTelemetryMiddleware)
    ]


def add_tracing(app: Starlette, server_name: str) -> None:
    """Wrap a Starlette app: the span (callers that send a `traceparent` only), then its name."""
    app.add_middleware(McpSpanNaming, server_name=server_name)
    app.add_middleware(
        ServerSpanMiddleware,
        tracer_name=TRACER,
        traced_callers_only=True,
        attributes={"toolrelay.mcp.server": server_name},
    )
