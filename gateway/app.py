"""The gateway's app factory: builds the state once and wires routes, middleware and errors."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from common.aiohttp_transport import IDLE_CONNECTION_EXPIRY
from common.heap import settle_after_startup
from common.netguard import AddressPolicy
from common.tracing import ServerSpanMiddleware
from gateway import ui
from gateway.accounts import build_accounts
from gateway.budgets.soft_budget import SoftBudgetHook
from gateway.cache import build_response_cache
from gateway.callbacks import plan_callbacks
from gateway.config import ConfigError, LoadedConfig, load_config
from gateway.deployments import (
    Deployment,
    deployment_from_entry,
    environment_summary,
    inference_summary,
)
from gateway.errors import GatewayError
from gateway.health_checks import BackgroundHealth
from gateway.http_io import gateway_error_handler, http_exception_handler, unexpected_error_handler
from gateway.jwt import with_jwt_auth
from gateway.logs import configure_logging
from gateway.metrics import worker_exited
from gateway.metrics.build import build_metrics
from gateway.metrics.deployments import observe_router
from gateway.model_store.build import build_stored_models
from gateway.providers.registry import ProviderRegistry
from gateway.redis_wiring import shared_redis_for
from gateway.request_middleware import RequestContextMiddleware
from gateway.router import DEFAULT_NAMESPACE, ModelGroups, RouterUsageHook, build_router
from gateway.router.aliases import install_aliases
from gateway.routes import (
    health,
    inference,
    management,
    media,
    messages,
    metrics,
    models,
    openapi,
    scoring,
)
from gateway.routes import passthrough as passthrough_routes
from gateway.routes import responses as responses_routes
from gateway.routes import token_counter as token_counter_routes
from gateway.signin import CsrfMiddleware, build_session_codec, with_sessions
from gateway.state import GatewayState
from gateway.store import default_data_dir
from gateway.tracing import start_gateway_tracing, tracing_hooks
from gateway.upstream_http import build_upstream_client
from gateway.upstream_tls import TlsSettingError, UpstreamTls, build_upstream_tls

CONFIG_ENV = "TOOLRELAY_CONFIG"
# Redis key prefix for router state: separates gateway fleets (and test runs) sharing a Redis.
ROUTER_NAMESPACE_ENV = "TOOLRELAY_ROUTER_NAMESPACE"
log = structlog.get_logger("toolrelay.gateway")


def build_http_client(tls: UpstreamTls | None = None) -> httpx.AsyncClient:
    """The one pooled upstream client shared by every provider (httpx API, aiohttp pool)."""
    return build_upstream_client(
        max_connections=2000,
        keepalive_expiry=IDLE_CONNECTION_EXPIRY,
        timeout=httpx.Timeout(600.0, connect=10.0),
        tls=tls,
    )


def upstream_tls_for(config: LoadedConfig, deployments: list[Deployment]) -> UpstreamTls:
    """The upstreams' TLS verification; a setting it cannot use (the file's are checked when
    it loads; SSL_VERIFY and SSL_CERT_FILE here) stops the start with a config error."""
    try:
        return build_upstream_tls(config.file.litellm_settings.ssl_verify, deployments, os.environ)
    except TlsSettingError as exc:
        where = str(config.path) if config.path else "<config>"
        raise ConfigError(f"{where}: TLS settings: {exc}") from None


def log_load_time_defaults(deployments: list[Deployment]) -> None:
    """What the gateway filled in for the config, once at start: one line each."""
    inferred = inference_summary(deployments)
    if inferred is not None:
        log.info("provider inferred from the model name", deployments=inferred)
    from_env = environment_summary(deployments)
    if from_env is not None:
        log.info("deployment settings from the environment", deployments=from_env)


def build_state(
    config: LoadedConfig, http: httpx.AsyncClient | None = None, data_dir: Path | None = None
) -> GatewayState:
    """`data_dir` holds the SQLite store (when no database_url) and the spend spill file;
    default `$TOOLRELAY_HOME` or ~/.toolrelay."""
    deployments = [deployment_from_entry(e, i) for i, e in enumerate(config.file.model_list)]
    tls = upstream_tls_for(config, deployments)
    client = http or build_http_client(tls)
    groups = ModelGroups.from_deployments(deployments)
    install_aliases(groups, config.file.router_settings.model_group_alias)
    providers = ProviderRegistry(client)
    log_load_time_defaults(deployments)
    for deployment in deployments:
        if not providers.known(deployment.provider):
            log.warning(
                "unsupported provider; requests to this deployment will fail",
                model_name=deployment.model_name,
                provider=deployment.provider,
            )
        problem = providers.config_problem(deployment)
        if problem is not None:
            log.warning(
                "deployment misconfigured; its requests will be refused with a 400",
                model_name=deployment.model_name,
                provider=deployment.provider,
                problem=problem,
            )
    redis = shared_redis_for(config)  # one client for limits, spend, router and cache
    accounts = build_accounts(config, data_dir or default_data_dir(), groups.find, redis)
    accounts.prices.warn_unpriced(deployments)
    wiring = build_metrics(config, accounts)
    router = build_router(
        config,
        groups,
        namespace=os.environ.get(ROUTER_NAMESPACE_ENV) or DEFAULT_NAMESPACE,
        redis=redis,
    )
    wiring.metrics.add_live(observe_router(router, wiring.metrics))
    sessions = build_session_codec(config, os.environ)
    return GatewayState(
        config=config,
        http=client,
        providers=providers,
        groups=groups,
        router=router,
        authenticator=with_sessions(
            sessions,
            with_jwt_auth(
                config,
                accounts.authenticator,
                client,
                lambda t: accounts.cache.get("team", t) is not None,
            ),
        ),
        hooks=[
            *tracing_hooks(),
            wiring.first,
            *([accounts.proxy_budget_hook] if accounts.proxy_budget_hook else []),
            accounts.limits_hook,
            accounts.model_budget_hook,
            accounts.spend_hook,
            SoftBudgetHook(
                accounts.cache, accounts.ledger, wiring.metrics.registry, accounts.alert_once
            ),
            RouterUsageHook(router),
            wiring.last,
        ],
        accounts=accounts,
        cache=build_response_cache(config, redis=redis),
        metrics=wiring.metrics,
        image_fetch=AddressPolicy.from_allow_hosts(
            config.file.general_settings.image_fetch_allow_hosts
        ),
        stored_models=build_stored_models(
            config, accounts.db, groups, router, providers, deployments, redis, tls=tls
        ),
        sessions=sessions,
        redis=redis,
    )


def create_app(
    config: LoadedConfig,
    *,
    access_log: bool = True,
    http: httpx.AsyncClient | None = None,
    data_dir: Path | None = None,
    settle_heap: bool = False,
) -> Starlette:
    """`settle_heap`: tune the process's garbage collector once the app is up (`common/heap.py`);
    for a server process, not for a test that builds many apps in one process."""
    state = build_state(config, http, data_dir)
    if config.master_key is None:
        log.warning("no master_key configured: the gateway accepts requests without a key")
    callbacks_warning = plan_callbacks(config.file.litellm_settings).warning()
    if callbacks_warning is not None:
        log.warning("config", detail=callbacks_warning)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if state.redis is not None:
            await state.redis.start()
        if state.accounts is not None:
            await state.accounts.start()
        if state.stored_models is not None:
            await state.stored_models.start()
        general = config.file.general_settings
        if general.background_health_checks:
            state.background_health = BackgroundHealth(
                state.providers, state.groups.all, interval=general.health_check_interval
            )
            state.background_health.start()
        log.info(
            "gateway ready",
            models=state.groups.names(),
            config=str(config.path) if config.path else None,
        )
        if settle_heap:
            settle_after_startup()
        try:
            yield
        finally:
            if state.background_health is not None:
                await state.background_health.stop()
            if state.stored_models is not None:
                await state.stored_models.stop()
            if state.accounts is not None:
                await state.accounts.stop()  # flushes queued spend rows
            await state.cache.aclose()
            await state.router.aclose()
            if state.redis is not None:
                await state.redis.aclose()
            worker_exited(os.getpid())
            await state.http.aclose()

    app = Starlette(
        routes=[
            *inference.routes(state),
            *media.routes(state),
            *scoring.routes(state),
            *messages.routes(state),
            *responses_routes.routes(state),
            *passthrough_routes.routes(state),
            *token_counter_routes.routes(state),
            *models.routes(state),
            *health.routes(state),
            *management.routes(state),
            *metrics.routes(state),
            *ui.routes(state),
            *openapi.routes(),
        ],
        exception_handlers={
            GatewayError: gateway_error_handler,
            HTTPException: http_exception_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.gateway = state
    app.add_middleware(CsrfMiddleware, sessions=state.sessions)
    app.add_middleware(RequestContextMiddleware, access_log=access_log)
    # the request-context middleware notes the response's status for the span
    app.add_middleware(
        ServerSpanMiddleware, tracer_name="toolrelay.gateway", status_noted_inside=True
    )
    return app


def app_from_env() -> Starlette:
    """uvicorn factory for multi-worker mode: the config path comes from the environment."""
    config = load_config(os.environ.get(CONFIG_ENV) or None)
    configure_logging(json_logs=config.file.litellm_settings.json_logs)
    start_gateway_tracing(config)
    return create_app(config, settle_heap=True)
