"""Entity changes shared between gateway instances through a Redis channel: each publishes
what it changed, and every instance listens and reloads (`invalidation.py` is the interface)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import orjson
import structlog
from redis.asyncio import Redis

from gateway import redis_channel
from gateway.background import cancel_and_wait
from gateway.keys.cache import TABLES, EntityCache
from gateway.keys.model import EntityKind
from gateway.store.database import StoreUnavailableError

log = structlog.get_logger("toolrelay.keys")
CHANNEL = "toolrelay:entity-changed"


@dataclass
class RedisInvalidations:
    """Publishes and listens on the shared client (its subscription takes one pooled
    connection); polls with a bounded wait because the client's socket timeout is short."""

    cache: EntityCache
    client: Redis
    poll_seconds: float = 1.0
    _task: asyncio.Task[None] | None = field(default=None)

    async def changed(self, kind: EntityKind, entity_id: str) -> None:
        await self.cache.reload(kind, entity_id)
        await redis_channel.publish(
            self.client,
            CHANNEL,
            orjson.dumps({"kind": kind, "id": entity_id}),
            unheard="could not publish a key change to redis; other instances see it at their "
            "next refresh",
        )

    async def start(self) -> None:
        subscribed = asyncio.Event()
        listen = redis_channel.listen(
            self.client,
            CHANNEL,
            self._apply,
            subscribed=subscribed,
            poll_seconds=self.poll_seconds,
            lost="redis invalidation channel lost; retrying",
        )
        self._task = asyncio.create_task(listen, name="entity-invalidations")
        # Changes published once start() returns are heard (unless Redis is down).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscribed.wait(), timeout=5.0)

    async def _apply(self, data: bytes) -> None:
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
        """The client is shared: the app closes it."""
        if self._task is not None:
            await cancel_and_wait(self._task)
