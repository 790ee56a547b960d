"""The Redis resources one gateway process shares: the client, its circuit and the replica's
lease. Built once by the app factory when Redis is configured, passed to limits, spend, the
router, key invalidations and the response cache, and closed once by the lifespan.

This module is imported by every gateway; redis-py (about 7 MB of resident memory) and the
modules built on it are imported only when a Redis URL is configured, by `connect`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.config import LoadedConfig

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from gateway.limits.lease import ReplicaLease
    from gateway.shared_redis import RedisCircuit


@dataclass
class SharedRedis:
    url: str
    client: Redis
    circuit: RedisCircuit
    lease: ReplicaLease

    @classmethod
    def connect(cls, url: str, timeout: float | None = None) -> SharedRedis:
        """`timeout`: per call, in seconds; None: the fail-fast default."""
        from gateway.limits.lease import ReplicaLease
        from gateway.shared_redis import HOT_PATH_TIMEOUT_SECONDS, RedisCircuit, build_redis_client

        client = build_redis_client(url, timeout or HOT_PATH_TIMEOUT_SECONDS)
        circuit = RedisCircuit(client)
        lease = ReplicaLease(client, circuit)
        circuit.on_recovery(lease.renew)  # first: what is restated next is held under it
        return cls(url=url, client=client, circuit=circuit, lease=lease)

    async def start(self) -> None:
        """Take the lease before anything is held under it (a Redis outage at start is fine:
        the circuit opens and the heartbeat takes the lease when Redis answers)."""
        from gateway.shared_redis import CONNECTION_ERRORS  # loaded by `connect`

        try:
            await self.lease.renew()
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="start")
        self.lease.start()

    async def aclose(self) -> None:
        from gateway.shared_redis import CONNECTION_ERRORS  # loaded by `connect`

        await self.lease.stop()
        await self.circuit.aclose()
        with contextlib.suppress(*CONNECTION_ERRORS):
            await self.client.aclose()


def shared_redis_for(config: LoadedConfig) -> SharedRedis | None:
    if not config.redis_url:
        return None
    return SharedRedis.connect(config.redis_url, config.redis_timeout)
