"""Entity changes shared between gateway instances through a Redis channel: each publishes
what it changed, and every instance listens and reloads (`invalidation.py` is the interface)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis

from gateway.background import cancel_and_wait
from gateway.keys.cache import TABLES, EntityCache
from gateway.keys.model import EntityKind
from gateway.shared_redis import CONNECTION_ERRORS
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
        try:
            await self.client.publish(CHANNEL, orjson.dumps({"kind": kind, "id": entity_id}))
        except CONNECTION_ERRORS as exc:
            log.warning(
                "could not publish a key change to redis; other instances see it at their "
                "next refresh",
                error=repr(exc),
            )

    async def start(self) -> None:
        subscribed = asyncio.Event()
        self._task = asyncio.create_task(self._listen(subscribed), name="entity-invalidations")
        # Changes published once start() returns are heard (unless Redis is down).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscribed.wait(), timeout=5.0)

    async def _listen(self, subscribed: asyncio.Event) -> None:
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                subscribed.set()
                while True:
                    message = await pubsub.get_message(timeout=self.poll_seconds)
                    if message is not None and message.get("type") == "message":
                        await self._apply(message.get("data"))
            except CONNECTION_ERRORS as exc:
                subscribed.set()  # don't hold up start() while Redis is away
                log.warning("redis invalidation channel lost; retrying", error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

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
        """The client is shared: the app closes it."""
        if self._task is not None:
            await cancel_and_wait(self._task)
