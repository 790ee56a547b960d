"""Redis cache: one pooled client, native expiry (milliseconds, so fractional TTLs work)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.cache.backends import CacheBackendError


@dataclass
class RedisBackend:
    client: aioredis.Redis

    @classmethod
    def from_url(cls, url: str) -> RedisBackend:
        return cls(aioredis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=2.0))

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self.client.get(key)
        except RedisError as exc:
            raise CacheBackendError(f"redis get failed: {exc}") from exc
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        px = None if ttl is None else max(1, int(ttl * 1000))
        try:
            await self.client.set(key, value, px=px)
        except RedisError as exc:
            raise CacheBackendError(f"redis set failed: {exc}") from exc

    async def aclose(self) -> None:
        await self.client.aclose()
