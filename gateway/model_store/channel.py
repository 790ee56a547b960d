"""The Redis channel on which replicas announce a change to the stored models. Imported only
when Redis is configured (`build.py`): redis-py is about 7 MB of resident memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis

from gateway.shared_redis import CONNECTION_ERRORS

log = structlog.get_logger("toolrelay.model_store")
CHANNEL = "toolrelay:models-changed"


@dataclass
class ModelChannel:
    # the process's one fail-fast client (gateway.shared_redis), shared, never closed here
    client: Redis

    async def publish(self) -> None:
        try:
            await self.client.publish(CHANNEL, b"changed")
        except CONNECTION_ERRORS as exc:
            log.warning(
                "could not publish a model change; other replicas see it at their next poll",
                error=repr(exc),
            )

    async def listen(
        self,
        subscribed: asyncio.Event,
        on_change: Callable[[], Awaitable[None]],
        poll_seconds: float,
    ) -> None:
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                subscribed.set()
                while True:
                    # polled, not `listen()`: the shared client's socket timeout is short
                    message = await pubsub.get_message(timeout=poll_seconds)
                    if message is not None and message.get("type") == "message":
                        await on_change()
            except CONNECTION_ERRORS as exc:
                subscribed.set()
                log.warning("redis model channel lost; polling only until back", error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
