"""Tell every gateway instance that an entity changed, so each reloads it from the database.

In one process the cache is reloaded directly. With Redis configured, changes are also
published on a channel that every instance subscribes to.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import structlog

from gateway.keys.cache import TABLES, EntityCache
from gateway.keys.model import EntityKind
from gateway.store.database import StoreUnavailableError

log = structlog.get_logger("toolrelay.keys")
CHANNEL = "toolrelay:entity-changed"


class Invalidations(Protocol):
    async def changed(self, kind: EntityKind, entity_id: str) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class LocalInvalidations:
    cache: EntityCache

    async def changed(self, kind: EntityKind, entity_id: str) -> None:
        await self.cache.reload(kind, entity_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@dataclass
class RedisInvalidations:
    cache: EntityCache
    redis_url: str
    _client: Any = None
    _task: asyncio.Task[None] | None = field(default=None)

    async def changed(self, kind: EntityKind, entity_id: str) -> None:
        import redis.exceptions

        await self.cache.reload(kind, entity_id)
        try:
            await self._redis().publish(CHANNEL, orjson.dumps({"kind": kind, "id": entity_id}))
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning(
                "could not publish a key change to redis; other instances see it at their "
                "next refresh",
                error=repr(exc),
            )

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.Redis.from_url(self.redis_url)
        return self._client

    async def start(self) -> None:
        subscribed = asyncio.Event()
        self._task = asyncio.create_task(self._listen(subscribed), name="entity-invalidations")
        # Changes published once start() returns are heard (unless Redis is down).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscribed.wait(), timeout=5.0)

    async def _listen(self, subscribed: asyncio.Event) -> None:
        import redis.exceptions

        while True:
            try:
                pubsub = self._redis().pubsub()
                await pubsub.subscribe(CHANNEL)
                subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self._apply(message.get("data"))
            except (OSError, redis.exceptions.RedisError) as exc:
                subscribed.set()  # don't hold up start() while Redis is away
                log.warning("redis invalidation channel lost; retrying", error=repr(exc))
                await asyncio.sleep(1.0)

    async def _apply(self, data: Any) -> None:
        try:
            payload = orjson.loads(data)
            kind, entity_id = payload["kind"], str(payload["id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ignoring malformed invalidation message")
            return
        if kind in TABLES:
            try:
                await self.cache.reload(kind, entity_id)
            except StoreUnavailableError:
                self.cache.drop(kind, entity_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()
