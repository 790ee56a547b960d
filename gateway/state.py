"""Everything a request handler needs, built once by the app factory and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from common.netguard import AddressPolicy
from gateway.auth import Authenticator
from gateway.cache import ResponseCache
from gateway.config import LoadedConfig
from gateway.hooks import RequestHook
from gateway.metrics import GatewayMetrics
from gateway.providers.client_headers import HeaderForwarding
from gateway.providers.registry import ProviderRegistry
from gateway.router import ModelGroups, Router
from gateway.signin.session import SessionCodec, random_session_codec

if TYPE_CHECKING:
    from gateway.accounts import Accounts
    from gateway.health_checks import BackgroundHealth
    from gateway.model_store.build import StoredModels
    from gateway.redis_wiring import SharedRedis

DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_MAX_REQUEST_MB = 32.0


@dataclass
class GatewayState:
    config: LoadedConfig
    http: httpx.AsyncClient
    providers: ProviderRegistry
    groups: ModelGroups
    router: Router
    authenticator: Authenticator
    hooks: list[RequestHook] = field(default_factory=list)
    accounts: Accounts | None = None  # keys, limits and spend (store-backed)
    cache: ResponseCache = field(default_factory=ResponseCache)  # disabled unless configured
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    image_fetch: AddressPolicy = field(default_factory=AddressPolicy)
    stored_models: StoredModels | None = None  # store_model_in_db: models added at runtime
    sessions: SessionCodec = field(default_factory=random_session_codec)  # admin page cookies
    redis: SharedRedis | None = None  # the one Redis client, its circuit and the lease
    background_health: BackgroundHealth | None = None  # general_settings.background_health_checks

    @property
    def drop_params(self) -> bool:
        return self.config.file.litellm_settings.drop_params

    @cached_property
    def header_forwarding(self) -> HeaderForwarding:
        file = self.config.file
        group_settings = file.litellm_settings.model_group_settings
        return HeaderForwarding.from_settings(
            file.general_settings.forward_client_headers_to_llm_api,
            group_settings.forward_client_headers_to_llm_api if group_settings else (),
        )

    @property
    def max_body_bytes(self) -> int:
        mb = self.config.file.general_settings.max_request_size_mb or DEFAULT_MAX_REQUEST_MB
        return int(mb * 1024 * 1024)

    def timeout_for(self, deployment_timeout: float | None) -> float:
        file = self.config.file
        return (
            deployment_timeout
            or file.router_settings.timeout
            or file.litellm_settings.request_timeout
            or DEFAULT_TIMEOUT_SECONDS
        )
