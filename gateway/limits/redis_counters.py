"""Counters shared by every gateway instance through Redis: spend (with reservations),
rpm/tpm windows and in-flight requests.

Admission is one Lua script over all the request's entities, so check-and-reserve is atomic
across instances exactly as `MemoryLedger.admit` is within one. The local ledger mirrors the
spend Redis returns, for headers and `/key/info`. Keys are namespaced by the database, so
instances that share a store share counters.

In-flight slots and budget reservations are held per replica (a hash field named by the
replica's lease, see `lease.py`): a replica that dies stops renewing its lease and its share is
released by the survivors within one lease, instead of stranding the key.

When Redis cannot be reached the circuit opens and the instance admits on its local ledger
(exact for its own traffic, approximate overall) without waiting on Redis; when Redis is back,
this replica's holdings and the spend it counted meanwhile are restated before it is used.

Spend reaches the shared total exactly once. Every spend increment carries a number unique to
this replica and sets that number's bit in a per-replica bitmap in the same script; a
settlement whose reply was lost (the connection dropped mid-call) is replayed later under the
same number, and the bit makes the replay a no-op if Redis had run the original.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from gateway.errors import BudgetExceededError
from gateway.limits.durations import parse_duration
from gateway.limits.errors import (
    LimitExceededError,
    budget_exceeded,
    parallel_exceeded,
    rpm_exceeded,
    tpm_exceeded,
)
from gateway.limits.lease import LEASE_PREFIX, LIVE_SUM_LUA, SWEEP_LUA, ReplicaLease
from gateway.limits.ledger import WINDOW, Check, EntityRef, MemoryLedger, Reservation, window_start
from gateway.shared_redis import CONNECTION_ERRORS, RedisCircuit
from gateway.spend.stream import StreamFields

log = structlog.get_logger("toolrelay.limits")

# KEYS: the holdings set, then per entity: budget hash, rpm/tpm window, in-flight holdings,
# reserved holdings. ARGV: now, cost, tokens, instance, lease prefix, lease ms, then 7 per entity.
_ADMIT = (
    LIVE_SUM_LUA
    + """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local me, prefix = ARGV[4], ARGV[5]
redis.call('SET', prefix .. me, '1', 'PX', ARGV[6])
local n = (#KEYS - 1) / 4
for i = 0, n - 1 do
  local b, w, p, r = KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4], KEYS[i * 4 + 5]
  local a = 6 + i * 7
  local maxb, dur = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local rpm, tpm, maxp = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  redis.call('HSETNX', b, 'spend', ARGV[a + 6])
  if tonumber(ARGV[a + 7]) > 0 then redis.call('HSETNX', b, 'reset_at', ARGV[a + 7]) end
  if dur > 0 then
    local at = tonumber(redis.call('HGET', b, 'reset_at') or '0')
    if at == 0 then
      redis.call('HSET', b, 'reset_at', now + dur)
    elseif now >= at then
      while at <= now do at = at + dur end
      redis.call('HSET', b, 'spend', 0, 'reset_at', at)
    end
  end
  if maxb >= 0 then
    local spend = tonumber(redis.call('HGET', b, 'spend') or '0')
    local reserved = live_sum(r, me, prefix)
    if spend + reserved >= maxb then
      return {i + 1, 'budget', tostring(spend), tostring(reserved), redis.call('HGET', b, 'reset_at') or '0'}
    end
  end
  if rpm >= 0 or tpm >= 0 then
    local req = tonumber(redis.call('HGET', w, 'req') or '0')
    local used = tonumber(redis.call('HGET', w, 'tok') or '0') + tonumber(redis.call('HGET', w, 'rtok') or '0')
    if rpm >= 0 and req >= rpm then return {i + 1, 'rpm', tostring(req), '0', '0'} end
    if tpm >= 0 and used >= tpm then return {i + 1, 'tpm', tostring(used), '0', '0'} end
  end
  if maxp >= 0 then
    local inflight = live_sum(p, me, prefix)
    if inflight >= maxp then return {i + 1, 'parallel', tostring(inflight), '0', '0'} end
  end
end
for i = 0, n - 1 do
  local b, w, p, r = KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4], KEYS[i * 4 + 5]
  local a = 6 + i * 7
  if cost > 0 then
    redis.call('HINCRBYFLOAT', r, me, cost)
    redis.call('SADD', KEYS[1], r)
  end
  if tonumber(ARGV[a + 3]) >= 0 or tonumber(ARGV[a + 4]) >= 0 then
    redis.call('HINCRBY', w, 'req', 1)
    redis.call('HINCRBY', w, 'rtok', tokens)
    redis.call('EXPIRE', w, 120)
  end
  if tonumber(ARGV[a + 5]) >= 0 then
    redis.call('HINCRBY', p, me, 1)
    redis.call('SADD', KEYS[1], p)
  end
end
return {0}
"""
)

# How long a settlement's "applied" bit is kept: a settlement cut mid-call is replayed
# exactly once if Redis comes back within this time. One bit per request, so a replica at
# 1,000 req/s keeps about 11 MB of bits in Redis for a day.
APPLIED_TTL_SECONDS = 86_400
# Bits per bitmap key, so the keys of old numbers expire while new ones fill.
APPLIED_BITS_PER_KEY = 1 << 16

# KEYS: this number's applied bitmap, then per entity the same four keys. ARGV: reserved
# cost, cost, reserved tokens, tokens, instance, the number's bit, the bitmap's TTL, then per
# entity (windowed, parallel) flags. The spend is added only if the bit was not set yet.
_SETTLE = """
local reserved_cost, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local reserved_tokens, tokens = tonumber(ARGV[3]), tonumber(ARGV[4])
local me = ARGV[5]
local fresh = redis.call('SETBIT', KEYS[1], ARGV[6], 1) == 0
redis.call('EXPIRE', KEYS[1], ARGV[7])
local n = (#KEYS - 1) / 4
local spends = {}
for i = 0, n - 1 do
  local b, w, p, r = KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4], KEYS[i * 4 + 5]
  if reserved_cost > 0 then
    local left = tonumber(redis.call('HINCRBYFLOAT', r, me, 0 - reserved_cost))
    if left <= 1e-12 then redis.call('HDEL', r, me) end
  end
  if fresh then
    spends[i + 1] = redis.call('HINCRBYFLOAT', b, 'spend', cost)
  else
    spends[i + 1] = redis.call('HGET', b, 'spend') or '0'
  end
  if ARGV[8 + i * 2] == '1' and redis.call('EXISTS', w) == 1 then
    redis.call('HINCRBY', w, 'rtok', 0 - reserved_tokens)
    redis.call('HINCRBY', w, 'tok', tokens)
  end
  if ARGV[9 + i * 2] == '1' then
    if redis.call('HINCRBY', p, me, -1) <= 0 then redis.call('HDEL', p, me) end
  end
end
return spends
"""

# KEYS: the number's applied bitmap, then budget hashes. ARGV: the number's bit, the bitmap's
# TTL, then one amount per budget hash. Adds the amounts unless the number was applied.
_ADD_SPEND_ONCE = """
if redis.call('SETBIT', KEYS[1], ARGV[1], 1) == 1 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do
  redis.call('HINCRBYFLOAT', KEYS[i], 'spend', ARGV[i + 1])
end
return 1
"""


def _num(value: float | int | None) -> str:
    return "-1" if value is None else repr(value)


@dataclass
class RedisCounters:
    local: MemoryLedger
    client: Redis
    namespace: str
    circuit: RedisCircuit
    lease: ReplicaLease
    # What this replica holds in Redis right now (holdings hash -> amount), so it can restate
    # its share after an outage, and the spend it could only count locally meanwhile.
    _slots: dict[str, int] = field(default_factory=dict)
    _reserved: dict[str, float] = field(default_factory=dict)
    _unsynced: dict[str, float] = field(default_factory=dict)
    # Spend sent under a number whose reply never came (budget hash -> amount per number):
    # Redis may or may not have added it. Replayed under the same number until confirmed.
    _unconfirmed: dict[int, dict[str, float]] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self._admit = self.client.register_script(_ADMIT)
        self._settle = self.client.register_script(_SETTLE)
        self._add_spend_once = self.client.register_script(_ADD_SPEND_ONCE)
        self._sweep = self.client.register_script(SWEEP_LUA)
        self.circuit.on_recovery(self._restate)
        self.lease.add_sweeper(self.sweep)

    @classmethod
    def create(
        cls,
        local: MemoryLedger,
        client: Redis,
        database_id: str,
        circuit: RedisCircuit,
        lease: ReplicaLease,
    ) -> RedisCounters:
        return cls(local, client, namespace_for(database_id), circuit, lease)

    @property
    def _holdings(self) -> str:
        return f"{self.namespace}:holdings"

    def _applied_bit(self, number: int) -> tuple[str, str]:
        """(bitmap key, bit) recording that spend number `number` reached the shared total."""
        chunk, bit = divmod(number, APPLIED_BITS_PER_KEY)
        return f"{self.namespace}:applied:{self.lease.instance}:{chunk}", str(bit)

    def _keys(self, ref: EntityRef, start: datetime) -> list[str]:
        base = f"{self.namespace}:{ref[0]}:{ref[1]}"
        return [
            self._budget_key(ref),
            f"{base}:w:{int(start.timestamp())}",
            f"{base}:inflight",
            f"{base}:reserved",
        ]

    async def admit(
        self, checks: list[Check], cost: float, tokens: int, now: datetime
    ) -> Reservation:
        if not self.circuit.available:
            return self.local.admit(checks, cost, tokens, now)
        start = window_start(now)
        keys: list[str] = [self._holdings]
        args: list[str] = [
            repr(now.timestamp()),
            repr(cost),
            str(tokens),
            self.lease.instance,
            LEASE_PREFIX,
            str(self.lease.ttl_ms),
        ]
        for check in checks:
            keys += self._keys(check.ref, start)
            budget = self.local.budgets.get(check.ref)
            reset_at = budget.reset_at if budget is not None else None
            duration = (
                parse_duration(check.budget_duration).total_seconds()
                if check.budget_duration
                else 0
            )
            args += [
                _num(check.max_budget),
                repr(duration),
                _num(check.rpm_limit),
                _num(check.tpm_limit),
                _num(check.max_parallel_requests),
                repr(self.local.spend(check.ref)),
                repr(reset_at.timestamp()) if reset_at is not None else "0",
            ]
        try:
            result = await self._admit(keys=keys, args=args)
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="limit admission")
            return self.local.admit(checks, cost, tokens, now)
        if int(result[0]) != 0:
            raise self._refusal(checks[int(result[0]) - 1], result, start, now)
        reservation = Reservation(
            refs=[c.ref for c in checks],
            cost=cost,
            tokens=tokens,
            window=start,
            parallel=[c.ref for c in checks if c.max_parallel_requests is not None],
            windowed=[c.ref for c in checks if c.rpm_limit is not None or c.tpm_limit is not None],
            shared=True,
        )
        self._hold(reservation, +1)
        return reservation

    def _hold(self, reservation: Reservation, sign: int) -> None:
        for ref in reservation.refs:
            _, _, slots, reserved = self._keys(ref, reservation.window)
            if reservation.cost > 0:
                self._reserved[reserved] = self._reserved.get(reserved, 0.0) + sign * (
                    reservation.cost
                )
            if ref in reservation.parallel:
                self._slots[slots] = self._slots.get(slots, 0) + sign

    def _refusal(
        self, check: Check, result: list[Any], start: datetime, now: datetime
    ) -> LimitExceededError | BudgetExceededError:
        kind = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
        value = float(result[2])
        if kind == "budget":
            reset = float(result[4])
            resets_at = datetime.fromtimestamp(reset, UTC) if reset > 0 else None
            assert check.max_budget is not None
            return budget_exceeded(
                check.label,
                value,
                float(result[3]),
                check.max_budget,
                resets_at,
                now,
                self.local.budget_status,
            )
        if kind == "rpm":
            assert check.rpm_limit is not None
            return rpm_exceeded(check.label, check.rpm_limit, start + WINDOW, now)
        if kind == "tpm":
            assert check.tpm_limit is not None
            return tpm_exceeded(check.label, check.tpm_limit, int(value), start + WINDOW, now)
        assert check.max_parallel_requests is not None
        return parallel_exceeded(check.label, check.max_parallel_requests, now)

    async def settle(
        self,
        reservation: Reservation,
        cost: float,
        tokens: int,
        append: tuple[str, StreamFields] | None = None,
    ) -> bool:
        """Release the reservation and count the spend. With `append` (stream, fields), the
        spend row is added to the stream in the same transaction; returns whether it was."""
        if not reservation.shared:  # admitted locally while Redis was away
            self.local.settle(reservation, cost, tokens)
            self._count_unsynced(reservation, cost)
            if self.circuit.available:  # it came back while this request ran
                await self._push_unsynced()
            return False
        if reservation.settled:
            return False
        reservation.settled = True
        self._hold(reservation, -1)
        number = next(self._numbers)
        applied_key, applied_bit = self._applied_bit(number)
        keys: list[str] = [applied_key]
        args = [
            repr(reservation.cost),
            repr(cost),
            str(reservation.tokens),
            str(tokens),
            self.lease.instance,
            applied_bit,
            str(APPLIED_TTL_SECONDS),
        ]
        for ref in reservation.refs:
            keys += self._keys(ref, reservation.window)
            args += [
                "1" if ref in reservation.windowed else "0",
                "1" if ref in reservation.parallel else "0",
            ]
        if not self.circuit.available:
            # The slot and reservation are restated from `_slots`/`_reserved` on recovery;
            # the spend is added to the shared total then.
            self._count_locally(reservation, cost)
            return False
        try:
            if append is None:
                spends: list[Any] = await self._settle(keys=keys, args=args)
            else:
                spends = await self._settle_and_append(keys, args, append)
        except CONNECTION_ERRORS as exc:
            # Sent, but the reply was lost: Redis may have run it. Replayed under the same
            # number, which makes the replay a no-op if it had.
            self.circuit.trip(exc, during="limit settlement")
            for ref in reservation.refs:
                self.local.add_spend(ref, cost)
            if cost:
                self._unconfirmed[number] = {
                    self._budget_key(ref): cost for ref in reservation.refs
                }
            return False
        for ref, spend in zip(reservation.refs, spends, strict=True):
            budget = self.local.budgets.get(ref)
            self.local.set_spend(ref, float(spend), budget.reset_at if budget else None)
        if self._unsynced or self._unconfirmed:  # left from a cut or a closing circuit
            await self._push_unsynced()
        return append is not None

    def _count_locally(self, reservation: Reservation, cost: float) -> None:
        for ref in reservation.refs:
            self.local.add_spend(ref, cost)
        self._count_unsynced(reservation, cost)

    def _budget_key(self, ref: EntityRef) -> str:
        return f"{self.namespace}:{ref[0]}:{ref[1]}:budget"

    async def _settle_and_append(
        self, keys: list[str], args: list[str], append: tuple[str, StreamFields]
    ) -> list[Any]:
        """One MULTI/EXEC round trip. EVALSHA by hand: a registered script in a pipeline makes
        redis-py send SCRIPT EXISTS first, a second round trip on every request."""
        for attempt in range(2):
            pipe = self.client.pipeline(transaction=True)
            pipe.evalsha(self._settle.sha, len(keys), *keys, *args)
            pipe.xadd(append[0], append[1])
            try:
                results = await pipe.execute()
            except NoScriptError:
                # Redis lost its scripts (restart, SCRIPT FLUSH). The XADD of this attempt ran
                # anyway; the retry's copy has the same row id and is skipped at insert.
                if attempt:
                    raise
                await self.client.script_load(_SETTLE)
                continue
            spends: list[Any] = results[0]
            return spends
        raise AssertionError("unreachable")

    def _count_unsynced(self, reservation: Reservation, cost: float) -> None:
        """Spend Redis has not seen; added to the shared totals when it is back."""
        for ref in reservation.refs:
            budget_key = self._budget_key(ref)
            self._unsynced[budget_key] = self._unsynced.get(budget_key, 0.0) + cost

    async def _push_unsynced(self) -> None:
        try:
            await self._add_pending_spend()
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="spend sync")

    async def _add_pending_spend(self) -> None:
        """Add the spend Redis has not confirmed, each amount exactly once. The amounts counted
        while Redis was away get a number of their own first, so a push cut mid-call is
        replayed like a settlement."""
        if self._unsynced:
            unsynced, self._unsynced = self._unsynced, {}
            self._unconfirmed[next(self._numbers)] = unsynced
        added = already = 0
        for number in sorted(self._unconfirmed):
            amounts = self._unconfirmed.get(number)
            if not amounts:  # confirmed by a concurrent push, or cleared by a reset
                self._unconfirmed.pop(number, None)
                continue
            applied_key, applied_bit = self._applied_bit(number)
            ran = await self._add_spend_once(
                keys=[applied_key, *amounts],
                args=[applied_bit, str(APPLIED_TTL_SECONDS), *map(repr, amounts.values())],
            )
            self._unconfirmed.pop(number, None)
            added, already = (added + 1, already) if int(ran) else (added, already + 1)
        if added or already:
            log.info(
                "spend Redis had not confirmed is in the shared totals, each amount once",
                added_now=added,
                had_arrived_before_the_cut=already,
            )

    async def _restate(self) -> None:
        """After an outage: put back exactly what this replica holds now (requests that ended
        meanwhile could not release theirs) and the spend counted only locally."""
        me = self.lease.instance
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.lease.key, b"1", px=self.lease.ttl_ms)
        for key, count in self._slots.items():
            if count > 0:
                pipe.hset(key, me, count)
                pipe.sadd(self._holdings, key)
            else:
                pipe.hdel(key, me)
        for key, amount in self._reserved.items():
            if amount > 1e-12:
                pipe.hset(key, me, repr(amount))
                pipe.sadd(self._holdings, key)
            else:
                pipe.hdel(key, me)
        await pipe.execute()  # absolute values: repeating it after a cut is harmless
        await self._add_pending_spend()
        self._slots = {k: v for k, v in self._slots.items() if v > 0}
        self._reserved = {k: v for k, v in self._reserved.items() if v > 1e-12}

    async def sweep(self) -> None:
        """Release the slots and reservations of replicas whose lease expired (every
        heartbeat, so it happens without traffic on the key too)."""
        members = await self.client.smembers(self._holdings)
        if not members:
            return
        keys = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
        released = int(await self._sweep(keys=keys, args=[LEASE_PREFIX]))
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.exists(key)
        gone = [k for k, exists in zip(keys, await pipe.execute(), strict=True) if not exists]
        if gone:
            await self.client.srem(self._holdings, *gone)
        if released:
            log.info("released the limit slots of replicas that stopped renewing", holders=released)

    async def shared_reserved(self, ref: EntityRef) -> tuple[int, float]:
        """(slots in flight, reserved budget) over live replicas, as Redis holds them."""
        _, _, slots, reserved = self._keys(ref, datetime.now(UTC))
        pipe = self.client.pipeline(transaction=False)
        pipe.hvals(slots)
        pipe.hvals(reserved)
        slot_values, reserved_values = await pipe.execute()
        return sum(int(v) for v in slot_values), sum(float(v) for v in reserved_values)

    async def refresh(self, ref: EntityRef) -> None:
        """Mirror the shared spend locally (management reads, not the request path)."""
        if not self.circuit.available:
            return
        try:
            spend = await self.client.hget(self._budget_key(ref), "spend")
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="spend refresh")
            return
        if spend is not None:
            budget = self.local.budgets.get(ref)
            self.local.set_spend(ref, float(spend), budget.reset_at if budget else None)

    async def set_spend(self, ref: EntityRef, spend: float) -> None:
        """An admin's explicit spend (e.g. a reset to 0) replaces the shared total."""
        budget = self.local.budgets.get(ref)
        self.local.set_spend(ref, spend, budget.reset_at if budget else None)
        budget_key = self._budget_key(ref)
        self._unsynced.pop(budget_key, None)
        for amounts in self._unconfirmed.values():
            amounts.pop(budget_key, None)
        try:
            await self.client.hset(budget_key, "spend", repr(spend))
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="spend reset")
            log.warning("redis unavailable; the spend reset is local only", error=repr(exc))

    async def close(self) -> None:
        """The client is shared and closed by the app; nothing of our own to release."""
        return None


def namespace_for(database_id: str) -> str:
    """Instances that share a store share counters (and the spend stream)."""
    digest = hashlib.sha256(database_id.encode()).hexdigest()[:12]
    return f"toolrelay:limits:{digest}"
