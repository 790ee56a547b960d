"""Periodic upkeep off the request path: reset budgets whose window ended, delete spend logs
past the retention period (`general_settings.maximum_spend_logs_retention_period`, LiteLLM's
name; daily rollups are kept), delete `disable_spend_logs` claims past `CLAIM_TTL`, and keep
the database's reachability current for readiness."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete

from gateway.background import finish_or_cancel, sleep_or_stop
from gateway.keys.cache import TABLES, EntityCache
from gateway.limits.calendar import next_reset_at
from gateway.spend.claims import CLAIM_TTL
from gateway.store import tables
from gateway.store.database import UNAVAILABLE_ERRORS, StoreUnavailableError
from gateway.store.repository import reset_budgets

log = structlog.get_logger("toolrelay.spend")
DEFAULT_INTERVAL_SECONDS = 60.0
_UNAVAILABLE: tuple[type[BaseException], ...] = (*UNAVAILABLE_ERRORS, StoreUnavailableError)


@dataclass
class Maintenance:
    cache: EntityCache
    retention: timedelta | None = None
    interval: float = DEFAULT_INTERVAL_SECONDS
    # Without Redis, other instances' key changes arrive by this periodic re-read.
    refresh_entities: bool = False
    _task: asyncio.Task[None] | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="spend-maintenance")

    async def _run(self) -> None:
        while not await sleep_or_stop(self._stopping, self.interval):
            await self.run_once()

    async def run_once(self, now: datetime | None = None) -> int:
        """Returns how many spend-log rows retention deleted."""
        now = now or datetime.now(UTC)
        db = self.cache.db
        if not await db.ping():
            return 0
        durations = {
            e.limits.budget_duration
            for kind in TABLES
            for e in self.cache.all(kind)
            if e.limits.budget_duration
        }
        deleted = 0
        try:
            if self.refresh_entities:
                await self.cache.refresh_all()
            await reset_budgets(
                db, list(TABLES.values()), now, {d: next_reset_at(d, now) for d in durations}
            )
            async with db.engine.begin() as connection:
                await connection.execute(
                    delete(tables.spend_claims).where(
                        tables.spend_claims.c.start_time < now - CLAIM_TTL
                    )
                )
            if self.retention is not None:
                async with db.engine.begin() as connection:
                    result = await connection.execute(
                        delete(tables.spend_logs).where(
                            tables.spend_logs.c.start_time < now - self.retention
                        )
                    )
                    deleted = result.rowcount or 0
        except _UNAVAILABLE as exc:
            log.warning("spend maintenance skipped: database unavailable", error=repr(exc))
            return 0
        if deleted:
            log.info("spend logs past retention deleted", rows=deleted)
        return deleted

    async def stop(self, finish_seconds: float = 5.0) -> None:
        """A round under way (deletes in a transaction) is let finish (`gateway.background`)."""
        if self._task is not None:
            self._stopping.set()
            await finish_or_cancel(self._task, finish_seconds)
            self._task = None
