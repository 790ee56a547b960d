"""The gateway's app factory: builds the state once and wires routes, middleware and errors."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from gateway.auth import MasterKeyAuthenticator
from gateway.config import LoadedConfig, load_config
from gateway.deployments import deployment_from_entry
from gateway.errors import GatewayError
from gateway.http_io import gateway_error_handler, http_exception_handler, unexpected_error_handler
from gateway.providers.registry import ProviderRegistry
from gateway.request_middleware import RequestContextMiddleware
from gateway.routes import health, inference, models
from gateway.routing import ModelGroups, Router
from gateway.state import GatewayState
from gateway.upstream_http import build_upstream_client

CONFIG_ENV = "TOOLRELAY_CONFIG"
log = structlog.get_logger("toolrelay.gateway")


def build_http_client() -> httpx.AsyncClient:
    """The one pooled upstream client shared by every provider (httpx API, aiohttp pool)."""
    return build_upstream_client(
        max_connections=2000, keepalive_expiry=60, timeout=httpx.Timeout(600.0, connect=10.0)
    )


def build_state(config: LoadedConfig, http: httpx.AsyncClient | None = None) -> GatewayState:
    client = http or build_http_client()
    deployments = [deployment_from_entry(e, i) for i, e in enumerate(config.file.model_list)]
    groups = ModelGroups.from_deployments(deployments)
    providers = ProviderRegistry(client)
    for deployment in deployments:
        if not providers.known(deployment.provider):
            log.warning(
                "unsupported provider; requests to this deployment will fail",
                model_name=deployment.model_name,
                provider=deployment.provider,
            )
    return GatewayState(
        config=config,
        http=client,
        providers=providers,
        groups=groups,
        router=Router(groups),
        authenticator=MasterKeyAuthenticator(config.master_key),
    )


def create_app(
    config: LoadedConfig, *, access_log: bool = True, http: httpx.AsyncClient | None = None
) -> Starlette:
    state = build_state(config, http)
    for warning in config.warnings:
        log.warning("config", detail=warning)
    if config.master_key is None:
        log.warning("no master_key configured: the gateway accepts requests without a key")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        log.info(
            "gateway ready",
            models=state.groups.names(),
            config=str(config.path) if config.path else None,
        )
        try:
            yield
        finally:
            await state.http.aclose()

    app = Starlette(
        routes=[*inference.routes(state), *models.routes(state), *health.routes(state)],
        exception_handlers={
            GatewayError: gateway_error_handler,
            HTTPException: http_exception_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.gateway = state
    app.add_middleware(RequestContextMiddleware, access_log=access_log)
    return app


def app_from_env() -> Starlette:
    """uvicorn factory for multi-worker mode: the config path comes from the environment."""
    return create_app(load_config(os.environ.get(CONFIG_ENV) or None))
