"""Redis cache: one pooled client, native expiry (milliseconds, so fractional TTLs work).

When the cache uses the gateway's Redis, it is handed the shared client (`owns_client=False`)
and leaves closing it to the app."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.cache.backends import CacheBackendError
from gateway.shared_redis import build_redis_client


@dataclass
class RedisBackend:
    client: aioredis.Redis
    owns_client: bool = True

    @classmethod
    def from_url(cls, url: str) -> RedisBackend:
        return cls(build_redis_client(url))

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
        if self.owns_client:
            await self.client.aclose()
