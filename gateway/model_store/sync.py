"""Replicas agree on the stored models: a change is published on a Redis channel (when Redis
is configured) and every replica reloads at once; each replica also polls a cheap fingerprint
of the tables (row counts and last update), so a missed message, or no Redis at all, still
converges within one poll interval."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, select

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
    redis_url: str | None = None
    poll_seconds: float = POLL_SECONDS
    _seen: tuple[object, ...] | None = None
    _client: Any = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def changed(self) -> None:
        """This replica changed the tables (and has reloaded): tell the others."""
        with contextlib.suppress(StoreUnavailableError):
            self._seen = await fingerprint(self.db)
        if self.redis_url is None:
            return
        import redis.exceptions

        try:
            await self._redis().publish(CHANNEL, b"changed")
        except (OSError, redis.exceptions.RedisError) as exc:
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
        if self.redis_url is not None:
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

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.Redis.from_url(self.redis_url or "")
        return self._client

    async def _listen(self, subscribed: asyncio.Event) -> None:
        import redis.exceptions

        while True:
            try:
                pubsub = self._redis().pubsub()
                await pubsub.subscribe(CHANNEL)
                subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        with contextlib.suppress(StoreUnavailableError):
                            await self._reload()
            except (OSError, redis.exceptions.RedisError) as exc:
                subscribed.set()
                log.warning("redis model channel lost; polling only until back", error=repr(exc))
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
