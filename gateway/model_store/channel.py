"""The Redis channel on which replicas announce a change to the stored models. Imported only
when Redis is configured (`build.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway import redis_channel

CHANNEL = "toolrelay:models-changed"


@dataclass
class ModelChannel:
    # the process's one fail-fast client (gateway.shared_redis), shared, never closed here
    client: Redis

    async def publish(self) -> None:
        await redis_channel.publish(
            self.client,
            CHANNEL,
            b"changed",
            unheard="could not publish a model change; other replicas see it at their next poll",
        )

    async def listen(
        self,
        subscribed: asyncio.Event,
        on_change: Callable[[], Awaitable[None]],
        poll_seconds: float,
    ) -> None:
        async def on_message(_data: bytes) -> None:
            await on_change()

        await redis_channel.listen(
            self.client,
            CHANNEL,
            on_message,
            subscribed=subscribed,
            poll_seconds=poll_seconds,
            lost="redis model channel lost; polling only until back",
        )
