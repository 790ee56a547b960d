"""A replica's lease: what lets the survivors tell a live holder from a dead one.

Everything a replica holds in Redis on behalf of requests in flight (limit slots, budget
reservations, the router's in-flight shares) is a hash field named by the replica's instance
id. The replica renews `toolrelay:lease:<instance>` every `heartbeat_seconds` with a
`ttl_seconds` expiry. A field whose lease key is gone belongs to a replica that died: scripts
skip and delete it when they read the hash, and every heartbeat runs the sweepers, so a dead
replica's share is back within `ttl_seconds + heartbeat_seconds` even with no traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis

from gateway.background import cancel_and_wait
from gateway.shared_redis import CONNECTION_ERRORS, RedisCircuit

log = structlog.get_logger("toolrelay.limits")

LEASE_PREFIX = "toolrelay:lease:"
LEASE_TTL_SECONDS = 10.0
HEARTBEAT_SECONDS = 3.0

Sweeper = Callable[[], Awaitable[None]]

# Sums a holdings hash over live holders, deleting the fields of dead ones. Shared by the
# limits and router scripts (prepended to them). `me` is always live: it is the caller.
LIVE_SUM_LUA = """
local function live_sum(h, me, prefix)
  local total = 0
  local f = redis.call('HGETALL', h)
  for j = 1, #f, 2 do
    if f[j] == me or redis.call('EXISTS', prefix .. f[j]) == 1 then
      total = total + tonumber(f[j + 1])
    else
      redis.call('HDEL', h, f[j])
    end
  end
  return total
end
"""

# KEYS: holdings hashes. ARGV: lease prefix. Returns how many dead holders were released.
SWEEP_LUA = """
local released = 0
for _, h in ipairs(KEYS) do
  local f = redis.call('HKEYS', h)
  for _, holder in ipairs(f) do
    if redis.call('EXISTS', ARGV[1] .. holder) == 0 then
      redis.call('HDEL', h, holder)
      released = released + 1
    end
  end
end
return released
"""


@dataclass
class ReplicaLease:
    client: Redis
    circuit: RedisCircuit
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    ttl_seconds: float = LEASE_TTL_SECONDS
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    _sweepers: list[Sweeper] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    @property
    def key(self) -> str:
        return LEASE_PREFIX + self.instance

    @property
    def ttl_ms(self) -> int:
        return int(self.ttl_seconds * 1000)

    def add_sweeper(self, sweeper: Sweeper) -> None:
        self._sweepers.append(sweeper)

    async def renew(self) -> None:
        await self.client.set(self.key, b"1", px=self.ttl_ms)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._beat(), name="replica-lease")

    async def _beat(self) -> None:
        while True:
            if self.circuit.available:
                try:
                    await self.renew()
                    for sweep in self._sweepers:
                        await sweep()
                except CONNECTION_ERRORS as exc:
                    self.circuit.trip(exc, during="lease renewal")
            await asyncio.sleep(self.heartbeat_seconds)

    async def stop(self) -> None:
        """Give the lease back at once: survivors release what we still hold at their next
        sweep instead of waiting for the expiry."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        if self.circuit.available:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await self.client.delete(self.key)
