"""Announcements between replicas on a Redis pub/sub channel: publish, and a listener that
keeps its subscription across outages. Used for key changes and stored-model changes;
imported only when Redis is configured (redis-py is about 7 MB of resident memory)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from gateway.shared_redis import CONNECTION_ERRORS

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger("toolrelay.redis")


async def publish(client: Redis, channel: str, data: bytes, *, unheard: str) -> None:
    """`unheard`: the warning logged when Redis is away, saying what other replicas miss."""
    try:
        await client.publish(channel, data)
    except CONNECTION_ERRORS as exc:
        log.warning(unheard, channel=channel, error=repr(exc))


async def listen(
    client: Redis,
    channel: str,
    on_message: Callable[[bytes], Awaitable[None]],
    *,
    subscribed: asyncio.Event,
    poll_seconds: float,
    lost: str,
) -> None:
    """Runs until cancelled. `subscribed` is set once the subscription stands, or when Redis
    is found away (so start-up never waits on it); `lost`: the warning for a dropped
    subscription, logged before each retry a second later."""
    while True:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(channel)
            subscribed.set()
            while True:
                # polled, not `listen()`: the shared fail-fast client's socket timeout is short
                message = await pubsub.get_message(timeout=poll_seconds)
                if message is not None and message.get("type") == "message":
                    data = message.get("data")
                    if isinstance(data, bytes):  # the client never decodes responses
                        await on_message(data)
        except CONNECTION_ERRORS as exc:
            subscribed.set()
            log.warning(lost, channel=channel, error=repr(exc))
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
