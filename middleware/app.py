"""The middleware's ASGI app: state built in the lifespan, routes, pure ASGI middleware."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from common.config import ConfigError
from common.heap import settle_after_startup
from common.tls import SslContexts, TlsSettingError, resolve_verify
from common.tracing import ServerSpanMiddleware
from middleware.artifacts import build_store
from middleware.auth import KeyChecker
from middleware.context import RequestIdMiddleware
from middleware.end_user import EndUserResolver
from middleware.errors import MiddlewareError
from middleware.gateway_client import GatewayClient
from middleware.http_io import error_response, http_error_response
from middleware.loop import ToolLoop
from middleware.mcp_pool import McpPool, PoolSettings, server_ssl_contexts
from middleware.metrics import Metrics
from middleware.routes import chat, files, health, mcp, models, openapi, responses
from middleware.runner import ToolRunner
from middleware.settings import AppSettings
from middleware.state import AppState


def pool_settings(settings: AppSettings) -> PoolSettings:
    m = settings.middleware
    return PoolSettings(
        tool_timeout=m.tool_timeout,
        tools_list_ttl=m.tools_list_ttl,
        concurrency=m.server_concurrency,
        initial_backoff=m.reconnect_initial_backoff,
        max_backoff=m.reconnect_max_backoff,
        breaker_threshold=m.breaker_threshold,
        breaker_cooldown=m.breaker_cooldown,
        ping_interval=m.health_check_interval,
        user_session_idle_timeout=m.user_session_idle_timeout,
        max_user_sessions=m.max_user_sessions,
    )


def build_state(settings: AppSettings, public_url: str) -> AppState:
    m = settings.middleware
    contexts = SslContexts(os.environ)
    try:
        gateway_tls = contexts.get(resolve_verify(None, m.ssl_verify, os.environ))
        mcp_tls = server_ssl_contexts(settings.mcp_servers, m.ssl_verify, os.environ, contexts)
    except TlsSettingError as exc:  # the file's values are checked when it loads; env here
        raise ConfigError(f"TLS settings: {exc}") from None
    gateway = GatewayClient(m.gateway_url, timeout=m.gateway_timeout, verify=gateway_tls)
    store = build_store(
        settings.storage,
        public_url=m.public_url or public_url,
        secret=m.signing_secret,
    )
    metrics = Metrics()
    pool = McpPool(settings.mcp_servers, pool_settings(settings), mcp_tls)
    runner = ToolRunner(pool, store, metrics, max_chars=m.max_tool_result_chars)
    return AppState(
        settings=settings,
        gateway=gateway,
        keys=KeyChecker(gateway, ttl=m.key_cache_ttl, master_key=settings.master_key),
        pool=pool,
        store=store,
        metrics=metrics,
        runner=runner,
        loop=ToolLoop(gateway, runner, m.max_iterations),
        end_users=EndUserResolver(
            jwt_secret=m.openwebui_jwt_secret, trust_headers=m.trust_openwebui_user_headers
        ),
    )


async def _middleware_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, MiddlewareError)
    return error_response(exc)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return http_error_response(exc)


def create_app(settings: AppSettings, *, public_url: str, settle_heap: bool = False) -> Starlette:
    """`settle_heap`: tune the process's garbage collector once the app is up
    (`common/heap.py`); for a server process, not for a test that builds many apps."""
    state = build_state(settings, public_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with state.pool.running():
            if settle_heap:
                settle_after_startup()
            try:
                yield
            finally:
                await state.gateway.aclose()

    app = Starlette(
        routes=[
            *chat.routes,
            *responses.routes,
            *models.routes,
            *mcp.routes,
            *files.routes,
            *health.routes,
            *openapi.routes,
        ],
        middleware=[
            # the request-id middleware notes the response's status for the span
            Middleware(
                ServerSpanMiddleware, tracer_name="toolrelay.middleware", status_noted_inside=True
            ),
            Middleware(RequestIdMiddleware),
        ],
        exception_handlers={MiddlewareError: _middleware_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.middleware = state
    return app
