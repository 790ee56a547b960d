"""Replicas agree on the stored models: a change is published on a Redis channel (when Redis
is configured, `channel.py`) and every replica reloads at once; each replica also polls a cheap
fingerprint
of the tables (row counts and last update), so a missed message, or no Redis at all, still
converges within one poll interval."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, select

from gateway.background import cancel_and_wait
from gateway.store.database import UNAVAILABLE_ERRORS, Database, StoreUnavailableError
from gateway.store.tables import credentials, proxy_models

if TYPE_CHECKING:
    from gateway.model_store.channel import ModelChannel

log = structlog.get_logger("toolrelay.model_store")
POLL_SECONDS = 1.0


async def fingerprint(db: Database) -> tuple[object, ...]:
    try:
        async with db.engine.connect() as connection:
            found: list[object] = []
            for table in (proxy_models, credentials):
                result = await connection.execute(
                    select(func.count(), func.max(table.c.updated_at))
                )
                found.extend(result.one())
    except UNAVAILABLE_ERRORS as exc:
        raise StoreUnavailableError(f"database unavailable: {exc}") from exc
    return tuple(found)


@dataclass
class ModelSync:
    db: Database
    reload: Callable[[], Awaitable[None]]
    channel: ModelChannel | None = None  # with Redis
    poll_seconds: float = POLL_SECONDS
    _seen: tuple[object, ...] | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def changed(self) -> None:
        """This replica changed the tables (and has reloaded): tell the others."""
        with contextlib.suppress(StoreUnavailableError):
            self._seen = await fingerprint(self.db)
        if self.channel is not None:
            await self.channel.publish()

    async def start(self) -> None:
        try:
            await self._reload()
        except StoreUnavailableError as exc:
            log.error("stored models not loaded yet; retrying", error=str(exc))
        self._tasks.append(asyncio.create_task(self._poll(), name="model-store-poll"))
        if self.channel is not None:
            subscribed = asyncio.Event()
            listen = self.channel.listen(subscribed, self._reload_if_reachable, self.poll_seconds)
            self._tasks.append(asyncio.create_task(listen, name="model-store-listen"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscribed.wait(), timeout=5.0)

    async def _reload(self) -> None:
        seen = await fingerprint(self.db)
        await self.reload()
        self._seen = seen

    async def _poll(self) -> None:
        reachable = True  # log outages once, not once a poll
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                if await fingerprint(self.db) != self._seen:
                    await self._reload()
            except StoreUnavailableError as exc:
                if reachable:
                    log.warning(
                        "stored models: database unavailable; serving the last set",
                        error=str(exc),
                    )
                reachable = False
                continue
            if not reachable:
                log.info("stored models: database reachable again")
            reachable = True

    async def _reload_if_reachable(self) -> None:
        with contextlib.suppress(StoreUnavailableError):
            await self._reload()

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks = []
