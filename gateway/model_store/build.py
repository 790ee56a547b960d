"""Build the stored-models service from the config, when `store_model_in_db` is on."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from gateway.config import LoadedConfig
from gateway.deployments import Deployment
from gateway.model_store.live import LiveModels
from gateway.model_store.secrets import NoSecretKeyError, SecretBox, salt_key_from
from gateway.model_store.store import ModelStore
from gateway.model_store.sync import ModelSync
from gateway.providers.registry import ProviderRegistry
from gateway.router import ModelGroups, Router
from gateway.store.database import Database
from gateway.upstream_tls import UpstreamTls

if TYPE_CHECKING:
    from gateway.model_store.channel import ModelChannel
    from gateway.redis_wiring import SharedRedis

log = structlog.get_logger("toolrelay.model_store")
ENV_SWITCH = "STORE_MODEL_IN_DB"


@dataclass
class StoredModels:
    store: ModelStore
    sync: ModelSync

    async def start(self) -> None:
        """After the database is migrated (the accounts start first)."""
        await self.sync.start()

    async def stop(self) -> None:
        await self.sync.stop()


def _channel(redis: SharedRedis | None) -> ModelChannel | None:
    if redis is None:
        return None
    # Imported here: only a gateway with Redis loads redis-py (about 7 MB resident).
    from gateway.model_store.channel import ModelChannel

    return ModelChannel(redis.client)


def store_model_in_db(config: LoadedConfig, environ: Mapping[str, str]) -> bool:
    switch = environ.get(ENV_SWITCH, "").strip().lower()
    return config.file.general_settings.store_model_in_db or switch in {"true", "1", "yes"}


def build_stored_models(
    config: LoadedConfig,
    db: Database,
    groups: ModelGroups,
    router: Router,
    providers: ProviderRegistry,
    config_deployments: list[Deployment],
    redis: SharedRedis | None = None,
    environ: Mapping[str, str] | None = None,
    tls: UpstreamTls | None = None,
) -> StoredModels | None:
    env = os.environ if environ is None else environ
    if not store_model_in_db(config, env):
        return None
    try:
        box = SecretBox.from_key(salt_key_from(env, config.master_key))
    except NoSecretKeyError as exc:
        log.error("store_model_in_db is on but cannot be used", reason=str(exc))
        return None
    live = LiveModels(groups=groups, router=router, config_deployments=config_deployments, tls=tls)

    async def reload() -> None:
        await store.reload()

    sync = ModelSync(db=db, reload=reload, channel=_channel(redis))
    store = ModelStore(db=db, box=box, live=live, providers=providers, notify=sync.changed)
    return StoredModels(store=store, sync=sync)
