"""The composition root of keys, limits, spend and the store: everything they need at runtime,
built once from the config (`build_accounts`) and started/stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from gateway.budgets.alert_once import AlertOnce, LocalAlertOnce
from gateway.budgets.book import BudgetBook
from gateway.budgets.model_budget import ModelBudgetHook
from gateway.budgets.proxy_budget import ProxyBudgetHook
from gateway.budgets.windows import LocalSpendWindows, SpendWindows
from gateway.config import LoadedConfig
from gateway.deployments import Deployment
from gateway.keys.authenticator import VirtualKeyAuthenticator
from gateway.keys.cache import EntityCache
from gateway.keys.invalidation import Invalidations, LocalInvalidations
from gateway.keys.service import Management
from gateway.limits.durations import DurationError, parse_duration
from gateway.limits.hook import LimitsHook
from gateway.limits.ledger import LocalCounters, MemoryLedger
from gateway.spend.hook import SpendLogHook
from gateway.spend.journal import journal_for
from gateway.spend.maintenance import Maintenance
from gateway.spend.prices import PriceTable
from gateway.spend.rows import SpendLogSettings
from gateway.spend.writer import DEFAULT_INTERVAL_SECONDS, SpendWriter
from gateway.store.database import (
    Database,
    StoreUnavailableError,
    create_database,
    database_url_for,
    migrate_database,
)

if TYPE_CHECKING:
    from gateway.limits.redis_counters import RedisCounters
    from gateway.redis_wiring import SharedRedis
    from gateway.spend.stream import SpendStream

log = structlog.get_logger("toolrelay.keys")
SPILL_FILENAME = "spend-spill.jsonl"
RETRY_OPEN_SECONDS = 5.0


@dataclass
class Accounts:
    db: Database
    cache: EntityCache
    ledger: MemoryLedger
    prices: PriceTable
    writer: SpendWriter
    invalidations: Invalidations
    maintenance: Maintenance
    management: Management
    authenticator: VirtualKeyAuthenticator
    limits_hook: LimitsHook
    spend_hook: SpendLogHook
    budgets: BudgetBook
    model_budget_hook: ModelBudgetHook
    proxy_budget_hook: ProxyBudgetHook | None = None  # litellm_settings.max_budget
    alert_once: AlertOnce = field(default_factory=LocalAlertOnce)
    stream: SpendStream | None = None
    _opener: asyncio.Task[None] | None = field(default=None)

    @property
    def ready(self) -> bool:
        return self.cache.loaded

    async def start(self) -> None:
        """Open the store; if it is down, keep serving (master key, and cached keys once
        loaded) and retry in the background."""
        self.writer.recover_replay_file()
        self.cache.active = True
        try:
            await self._open()
        except StoreUnavailableError as exc:
            log.error("database unavailable at start; retrying in the background", error=str(exc))
            self._opener = asyncio.create_task(self._open_eventually(), name="store-open")
        await self.writer.start()
        if self.stream is not None:
            await self.stream.start()
        await self.invalidations.start()
        await self.maintenance.start()

    async def _open(self) -> None:
        await migrate_database(self.db)
        await self.cache.load_all()

    async def _open_eventually(self) -> None:
        while True:
            await asyncio.sleep(RETRY_OPEN_SECONDS)
            try:
                await self._open()
            except StoreUnavailableError:
                continue
            return

    async def stop(self) -> None:
        if self._opener is not None:
            self._opener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._opener
        await self.maintenance.stop()
        await self.invalidations.stop()
        if self.limits_hook.counters is not None:
            await self.limits_hook.counters.close()
        if self.stream is not None:
            await self.stream.stop()
        await self.writer.stop()
        await self.db.close()


def _retention(config: LoadedConfig) -> timedelta | None:
    value = config.file.general_settings.maximum_spend_logs_retention_period
    if not value:
        return None
    try:
        return parse_duration(str(value))
    except DurationError as exc:
        log.warning("general_settings.maximum_spend_logs_retention_period ignored", error=str(exc))
        return None


def build_accounts(
    config: LoadedConfig,
    data_dir: Path,
    deployments_of: Callable[[str], list[Deployment]],
    redis: SharedRedis | None = None,
) -> Accounts:
    general = config.file.general_settings
    db = create_database(database_url_for(general.database_url, data_dir))
    spend_log = SpendLogSettings.from_settings(
        general.disable_spend_logs,
        general.store_prompts_in_spend_logs,
        {**config.file.environment_variables, **os.environ},  # the real environment wins
    )
    ledger = MemoryLedger(budget_status=config.file.litellm_settings.budget_exceeded_status_code)
    cache = EntityCache(db=db, ledger=ledger)
    prices = PriceTable.bundled(allow_unpriced=general.allow_unpriced_models)
    writer = SpendWriter(
        db=db,
        spill_path=data_dir / SPILL_FILENAME,
        interval=general.proxy_batch_write_at or DEFAULT_INTERVAL_SECONDS,
        journal=journal_for(data_dir),
    )
    counters: LocalCounters | RedisCounters = LocalCounters(ledger)
    invalidations: Invalidations = LocalInvalidations(cache)
    stream: SpendStream | None = None
    windows: SpendWindows = LocalSpendWindows()
    alert_once: AlertOnce = LocalAlertOnce()
    if redis is not None:
        # Imported here: only a gateway with Redis loads redis-py (about 7 MB resident).
        from gateway.budgets.redis_alert_once import RedisAlertOnce
        from gateway.budgets.redis_windows import RedisSpendWindows
        from gateway.keys.redis_invalidations import RedisInvalidations
        from gateway.limits.redis_counters import RedisCounters, namespace_for
        from gateway.spend.stream import SpendStream

        counters = RedisCounters.create(
            ledger, redis.client, db.describe(), redis.circuit, redis.lease
        )
        invalidations = RedisInvalidations(cache, redis.client)
        namespace = namespace_for(db.describe())
        windows = RedisSpendWindows(redis.client, redis.circuit, namespace, redis.lease.instance)
        alert_once = RedisAlertOnce(redis.client, redis.circuit, namespace)
        stream = SpendStream(
            client=redis.client,
            circuit=redis.circuit,
            key=f"{namespace}:spend",
            consumer=redis.lease.instance,
            writer=writer,
        )

    async def flush_spend() -> bool:
        """Everything this replica can see is in the database (the stream first)."""
        if stream is not None:
            await stream.drain_pending()
        return await writer.flush()

    management = Management(
        cache=cache, invalidations=invalidations, counters=counters, flush_spend=flush_spend
    )
    return Accounts(
        db=db,
        cache=cache,
        ledger=ledger,
        prices=prices,
        writer=writer,
        invalidations=invalidations,
        maintenance=Maintenance(
            cache=cache, retention=_retention(config), refresh_entities=redis is None
        ),
        management=management,
        authenticator=VirtualKeyAuthenticator(
            master_key=config.master_key,
            cache=cache,
            allow_on_db_unavailable=general.allow_requests_on_db_unavailable,
        ),
        limits_hook=LimitsHook(
            cache, ledger, prices, deployments_of, counters, stream=stream, spend_log=spend_log
        ),
        spend_hook=SpendLogHook(prices, writer, stream, spend_log),
        stream=stream,
        budgets=BudgetBook(db=db, management=management),
        model_budget_hook=ModelBudgetHook(
            cache=cache, prices=prices, db=db, windows=windows, budget_status=ledger.budget_status
        ),
        proxy_budget_hook=_proxy_budget(config, prices, db, windows),
        alert_once=alert_once,
    )


def _proxy_budget(
    config: LoadedConfig, prices: PriceTable, db: Database, windows: SpendWindows
) -> ProxyBudgetHook | None:
    settings = config.file.litellm_settings
    if settings.max_budget <= 0 or settings.budget_duration is None:  # 0 is off, as in LiteLLM
        return None
    return ProxyBudgetHook(
        settings.max_budget,
        settings.budget_duration,
        prices,
        db,
        windows,
        budget_status=settings.budget_exceeded_status_code,
    )
