"""The MCP servers' side of a trace: one SERVER span per MCP HTTP request that carries a
W3C `traceparent`, as a child of the caller's tool-call span.

Requests without a `traceparent` (session set-up, pings, tool listing by the pool) are not
traced: they belong to no user request. The span is named after the JSON-RPC method and tool
(`tools/call execute_sql`), read from the request body as it streams through.

Export follows the same switches as the gateway (this package imports no other toolrelay
package, so it reads them itself): the `otel` callback in the config file or the standard
`OTEL_*` variables, and the `langfuse` callback with `LANGFUSE_*`. Spans leave through the
SDK's batch processor, whose bounded queue drops (never blocks) when the receiver is slow.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import yaml
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACER = "toolrelay.mcp_servers"
CALLBACK_KEYS = ("success_callback", "failure_callback", "callbacks")
_MAX_PEEK = 64 * 1024  # only the start of a body is needed to name the span


def _callbacks(config_path: str | None) -> set[str]:
    if not config_path or not Path(config_path).is_file():
        return set()
    try:
        document = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()  # the server's own settings loader reports a bad file
    settings = document.get("litellm_settings") if isinstance(document, dict) else None
    if not isinstance(settings, dict):
        return set()
    names: set[str] = set()
    for key in CALLBACK_KEYS:
        value = settings.get(key)
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, list):
            names.update(v for v in value if isinstance(v, str))
    return names


def _otel_endpoint(env: Mapping[str, str], forced: bool) -> str | None:
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    exporter = env.get("OTEL_TRACES_EXPORTER", "").lower()
    if exporter == "none":
        return None
    full = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_ENDPOINT")
    if full:
        return full
    if not (forced or base or exporter == "otlp"):
        return None
    root = (base or "http://localhost:4318").rstrip("/")
    return root if root.endswith("/v1/traces") else root + "/v1/traces"


def install_tracing(server_name: str, config_path: str | None) -> TracerProvider | None:
    env = os.environ
    callbacks = _callbacks(config_path)
    exporters: list[OTLPSpanExporter] = []
    endpoint = _otel_endpoint(env, forced="otel" in callbacks)
    if endpoint:
        exporters.append(OTLPSpanExporter(endpoint=endpoint, timeout=5.0))
    public, secret = env.get("LANGFUSE_PUBLIC_KEY"), env.get("LANGFUSE_SECRET_KEY")
    if callbacks & {"langfuse", "langfuse_otel"} and public and secret:
        host = (
            env.get("LANGFUSE_HOST") or env.get("LANGFUSE_BASE_URL") or "https://cloud.langfuse.com"
        )
        token = base64.b64encode(f"{public}:{secret}".encode()).decode()
        exporters.append(
            OTLPSpanExporter(
                endpoint=host.rstrip("/") + "/api/public/otel/v1/traces",
                headers={"Authorization": f"Basic {token}"},
                timeout=5.0,
            )
        )
    if not exporters:
        return None
    service = env.get("OTEL_SERVICE_NAME") or f"toolrelay-mcp-{server_name}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=2048))
    trace.set_tracer_provider(provider)
    return provider


class _ScopeHeaders(Getter[Scope]):
    def get(self, carrier: Scope, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return found or None

    def keys(self, carrier: Scope) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


_HEADERS = _ScopeHeaders()


def _describe(body: bytes) -> tuple[str, dict[str, Any]]:
    """The span name and attributes for a JSON-RPC request body."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", {}
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return "", {}
    method: str = message["method"]
    attributes: dict[str, Any] = {"mcp.method.name": method}
    params = message.get("params")
    tool = params.get("name") if isinstance(params, dict) else None
    if method == "tools/call" and isinstance(tool, str):
        attributes["gen_ai.tool.name"] = tool
        attributes["gen_ai.operation.name"] = "execute_tool"
        return f"{method} {tool}", attributes
    return method, attributes


class TraceContextMiddleware:
    def __init__(self, app: ASGIApp, *, server_name: str) -> None:
        self.app = app
        self.server_name = server_name
        self.tracer = trace.get_tracer(TRACER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(k == b"traceparent" for k, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        parent = propagate.extract(scope, getter=_HEADERS)
        with self.tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"toolrelay.mcp.server": self.server_name, "url.path": scope["path"]},
        ) as span:
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
                        name, attributes = _describe(bytes(peeked))
                        if name:
                            span.update_name(f"mcp {self.server_name} {name}")
                            span.set_attributes(attributes)
                return message

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", int(message["status"]))
                await send(message)

            await self.app(scope, peeking_receive, send_with_status)
