"""Replicas agree on the stored models: a change is published on a Redis channel (when Redis
is configured) and every replica reloads at once; each replica also polls a cheap fingerprint
of the tables (row counts and last update), so a missed message, or no Redis at all, still
converges within one poll interval."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from sqlalchemy import func, select

from gateway.shared_redis import CONNECTION_ERRORS, cancel_and_wait
from gateway.store.database import UNAVAILABLE_ERRORS, Database, StoreUnavailableError
from gateway.store.tables import credentials, proxy_models

log = structlog.get_logger("toolrelay.model_store")
CHANNEL = "toolrelay:models-changed"
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
    # the process's one fail-fast client (gateway.shared_redis), shared, never closed here
    client: Redis | None = None
    poll_seconds: float = POLL_SECONDS
    _seen: tuple[object, ...] | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def changed(self) -> None:
        """This replica changed the tables (and has reloaded): tell the others."""
        with contextlib.suppress(StoreUnavailableError):
            self._seen = await fingerprint(self.db)
        if self.client is None:
            return
        try:
            await self.client.publish(CHANNEL, b"changed")
        except CONNECTION_ERRORS as exc:
            log.warning(
                "could not publish a model change; other replicas see it at their next poll",
                error=repr(exc),
            )

    async def start(self) -> None:
        try:
            await self._reload()
        except StoreUnavailableError as exc:
            log.error("stored models not loaded yet; retrying", error=str(exc))
        self._tasks.append(asyncio.create_task(self._poll(), name="model-store-poll"))
        if self.client is not None:
            subscribed = asyncio.Event()
            self._tasks.append(
                asyncio.create_task(self._listen(subscribed), name="model-store-listen")
            )
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

    async def _listen(self, subscribed: asyncio.Event) -> None:
        assert self.client is not None
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                subscribed.set()
                while True:
                    # polled, not `listen()`: the shared client's socket timeout is short
                    message = await pubsub.get_message(timeout=self.poll_seconds)
                    if message is not None and message.get("type") == "message":
                        with contextlib.suppress(StoreUnavailableError):
                            await self._reload()
            except CONNECTION_ERRORS as exc:
                subscribed.set()
                log.warning("redis model channel lost; polling only until back", error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks = []
