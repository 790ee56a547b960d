"""The one HTTP shape every MCP server shares.

Streamable HTTP at `/mcp`, legacy SSE at `/sse` (+ its POST path `/messages/`), and an
unauthenticated `GET /healthz`. Optional bearer-token auth guards everything else.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import structlog
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_servers._tracing import add_tracing, drop_sdk_spans

logger = structlog.get_logger(__name__)

HEALTH_PATH = "/healthz"
MCP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGE_PATH = "/messages/"

# Loopback Host values the SDK itself trusts when bound to localhost.
LOCAL_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")

Lifespan = Callable[[], AbstractAsyncContextManager[None]]
Health = Callable[[], Awaitable[dict[str, Any]]]


def transport_security(allowed_hosts: Sequence[str] | None) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback Host values always, plus `allowed_hosts`.

    `allowed_hosts` entries are `host`, `host:port` or `host:*` (e.g. `fetch:8111` in a
    container network); `"*"` turns the Host/Origin check off entirely.
    """
    extra = list(allowed_hosts or ())
    if "*" in extra:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts: list[str] = list(LOCAL_HOSTS)
    for entry in extra:
        hosts.append(entry)
        if ":" not in entry.rsplit("]", 1)[-1]:
            # A bare name: accept it with the default port omitted and with any port.
            hosts.append(f"{entry}:*")
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class BearerAuthMiddleware:
    """Require `Authorization: Bearer <token>` on every path but the health check."""

    def __init__(
        self, app: ASGIApp, token: str, open_paths: Sequence[str] = (HEALTH_PATH,)
    ) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        supplied = b""
        for key, value in scope["headers"]:
            if key == b"authorization":
                supplied = value
                break
        if hmac.compare_digest(supplied, self.expected):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "unauthorized", "detail": "missing or wrong bearer token"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


def _health_route(server_name: str, health: Health | None) -> Route:
    async def healthz(_: Request) -> Response:
        body: dict[str, Any] = {"status": "ok", "server": server_name}
        if health is not None:
            try:
                body.update(await health())
            except Exception as exc:  # boundary: any failing dependency makes us unhealthy
                logger.warning("health check failed", server=server_name, error=str(exc))
                return JSONResponse(
                    {
                        "status": "error",
                        "server": server_name,
                        "error": str(exc) or type(exc).__name__,
                    },
                    status_code=503,
                )
        return JSONResponse(body)

    return Route(HEALTH_PATH, healthz, methods=["GET"])


def build_http_app(
    server: MCPServer[Any],
    *,
    auth_token: str | None = None,
    lifespan: Lifespan | None = None,
    health: Health | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> Starlette:
    """One ASGI app: streamable HTTP at /mcp, legacy SSE at /sse (+ /messages/), GET /healthz.

    /healthz needs no auth and answers `{"status": "ok", ...health()}`, or 503 when
    `health()` raises. With `auth_token`, every other route needs `Authorization: Bearer
    <token>` (constant-time compare, 401 JSON otherwise). `lifespan` wraps the server's own
    resources (DB pool, browser) around the app's lifetime, outside the streamable-HTTP
    session manager's lifespan. `allowed_hosts` adds Host values (besides loopback) that
    DNS-rebinding protection accepts; build_app passes `settings.get("allowed_hosts")`.
    """
    security = transport_security(allowed_hosts)
    streamable = server.streamable_http_app(
        streamable_http_path=MCP_PATH, transport_security=security
    )
    sse = server.sse_app(
        sse_path=SSE_PATH, message_path=SSE_MESSAGE_PATH, transport_security=security
    )
    routes: list[BaseRoute] = [_health_route(server.name, health), *streamable.routes, *sse.routes]
    session_manager = server.session_manager

    @asynccontextmanager
    async def app_lifespan(_: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if lifespan is not None:
                await stack.enter_async_context(lifespan())
            await stack.enter_async_context(session_manager.run())
            logger.info("mcp server ready", server=server.name)
            yield

    app = Starlette(routes=routes, lifespan=app_lifespan)
    if auth_token:
        app.add_middleware(BearerAuthMiddleware, token=auth_token)
    add_tracing(app, server.name)
    drop_sdk_spans(server)
    return app


def serve(app: Starlette, host: str, port: int) -> None:
    """Run `app` with uvicorn on uvloop/httptools, access log off."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="info",
        log_config=None,  # keep our JSON handler (see _logs) for uvicorn's loggers
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
