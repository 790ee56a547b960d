"""`SpendWindows` shared through Redis, so every replica and worker counts one window's spend
once (see `windows.py`). Imported only when Redis is configured.

A window's key is seeded from the spend logs by the first replica to look (`SET NX`, so two
replicas seeding at once keep one figure) and expires a day after the window ends. A cost is
added only to a seeded key: one that expired, or was never seeded, is seeded again from the
spend logs, which hold that cost by then or soon after.

Each cost is added exactly once. It carries a number unique to this replica, whose bit the
same script sets (as the limit counters do, `gateway/limits/redis_counters.py`): an add whose
reply was lost (Redis may have run it) is replayed under its number at the next call that
reaches Redis, and the replay adds nothing if the original had run.

While the circuit is open each replica counts on from the last shared figure it saw, and
adds what it counted when Redis answers again. A read that times out on its own (a stalled
event loop, not an outage) answers from that local figure too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from redis.asyncio import Redis

from gateway.budgets.windows import LoadSpent, LocalSpendWindows, Window
from gateway.limits.redis_counters import APPLIED_BITS_PER_KEY, APPLIED_TTL_SECONDS
from gateway.shared_redis import CONNECTION_ERRORS, RedisCircuit

KEPT_AFTER_WINDOW = timedelta(days=1)

# KEYS: the number's applied bitmap, the window's count. ARGV: the number's bit, the bitmap's
# TTL, the cost. Adds the cost to a seeded count unless the number was applied.
_ADD_ONCE = """
if redis.call('SETBIT', KEYS[1], ARGV[1], 1) == 1 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('INCRBYFLOAT', KEYS[2], ARGV[3])
end
return 1
"""


@dataclass
class RedisSpendWindows:
    client: Redis
    circuit: RedisCircuit
    namespace: str
    instance: str  # this replica's lease name: its numbers are its own
    local: LocalSpendWindows = field(default_factory=LocalSpendWindows)
    # Adds Redis has not confirmed, by number: counted while it was away, or sent and never
    # answered. Replayed (each under its number) until confirmed.
    _unconfirmed: dict[int, tuple[Window, float]] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self._add_once = self.client.register_script(_ADD_ONCE)
        self.circuit.on_recovery(self._replay)

    def _key(self, window: Window) -> str:
        return f"{self.namespace}:budget-window:{window.name}"

    async def spent(self, window: Window, load: LoadSpent) -> float:
        if not self.circuit.available:
            return await self.local.spent(window, load)
        key = self._key(window)
        try:
            if self._unconfirmed:  # left by a lone timeout: the circuit never reopened
                await self._replay()
            value = await self.client.get(key)
            if value is None:
                seeded = await load()
                await self.client.set(key, repr(seeded), nx=True, exat=_expiry(window))
                value = await self.client.get(key)
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="budget window read")
            return await self.local.spent(window, load)
        shared = float(value) if value is not None else 0.0
        self.local.follow(window, shared)
        return shared

    async def add(self, window: Window, cost: float) -> None:
        if cost <= 0:
            return
        await self.local.add(window, cost)
        number = next(self._numbers)
        self._unconfirmed[number] = (window, cost)
        if not self.circuit.available:
            return
        try:
            await self._replay()
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="budget window add")

    async def _replay(self) -> None:
        """Send every unconfirmed add, oldest first; a failure leaves the rest for later."""
        for number in sorted(self._unconfirmed):
            found = self._unconfirmed.get(number)
            if found is None:  # confirmed by a concurrent replay
                continue
            window, cost = found
            chunk, bit = divmod(number, APPLIED_BITS_PER_KEY)
            applied = f"{self.namespace}:window-applied:{self.instance}:{chunk}"
            await self._add_once(
                keys=[applied, self._key(window)],
                args=[bit, APPLIED_TTL_SECONDS, repr(cost)],
            )
            self._unconfirmed.pop(number, None)


def _expiry(window: Window) -> int | None:
    if window.ends_at is None:
        return None
    return int((window.ends_at + KEPT_AFTER_WINDOW).astimezone(UTC).timestamp())
