"""Counters shared by every gateway instance through Redis: spend (with reservations),
rpm/tpm windows and in-flight requests.

Admission is one Lua script over all the request's entities, so check-and-reserve is atomic
across instances exactly as `MemoryLedger.admit` is within one. The local ledger mirrors the
spend Redis returns, for headers and `/key/info`. Keys are namespaced by the database, so
instances that share a store share counters. When Redis cannot be reached, the instance
falls back to its local ledger (and says so) rather than refusing traffic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from gateway.limits.durations import parse_duration
from gateway.limits.errors import (
    LimitExceededError,
    budget_exceeded,
    parallel_exceeded,
    rpm_exceeded,
    tpm_exceeded,
)
from gateway.limits.ledger import WINDOW, Check, EntityRef, MemoryLedger, Reservation, window_start

log = structlog.get_logger("toolrelay.limits")

_ADMIT = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local n = #KEYS / 3
for i = 0, n - 1 do
  local b, w, p = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local a = 3 + i * 7
  local maxb, dur = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local rpm, tpm, maxp = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  redis.call('HSETNX', b, 'spend', ARGV[a + 6])
  if tonumber(ARGV[a + 7]) > 0 then redis.call('HSETNX', b, 'reset_at', ARGV[a + 7]) end
  if dur > 0 then
    local r = tonumber(redis.call('HGET', b, 'reset_at') or '0')
    if r == 0 then
      redis.call('HSET', b, 'reset_at', now + dur)
    elseif now >= r then
      while r <= now do r = r + dur end
      redis.call('HSET', b, 'spend', 0, 'reset_at', r)
    end
  end
  if maxb >= 0 then
    local spend = tonumber(redis.call('HGET', b, 'spend') or '0')
    local reserved = tonumber(redis.call('HGET', b, 'reserved') or '0')
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
    local inflight = tonumber(redis.call('GET', p) or '0')
    if inflight >= maxp then return {i + 1, 'parallel', tostring(inflight), '0', '0'} end
  end
end
for i = 0, n - 1 do
  local b, w, p = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local a = 3 + i * 7
  redis.call('HINCRBYFLOAT', b, 'reserved', cost)
  if tonumber(ARGV[a + 3]) >= 0 or tonumber(ARGV[a + 4]) >= 0 then
    redis.call('HINCRBY', w, 'req', 1)
    redis.call('HINCRBY', w, 'rtok', tokens)
    redis.call('EXPIRE', w, 120)
  end
  if tonumber(ARGV[a + 5]) >= 0 then
    redis.call('INCR', p)
    redis.call('EXPIRE', p, 3600)
  end
end
return {0}
"""

_SETTLE = """
local reserved_cost, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local reserved_tokens, tokens = tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 3
local spends = {}
for i = 0, n - 1 do
  local b, w, p = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local left = tonumber(redis.call('HINCRBYFLOAT', b, 'reserved', 0 - reserved_cost))
  if left < 0 then redis.call('HSET', b, 'reserved', 0) end
  spends[i + 1] = redis.call('HINCRBYFLOAT', b, 'spend', cost)
  if ARGV[5 + i * 2] == '1' and redis.call('EXISTS', w) == 1 then
    redis.call('HINCRBY', w, 'rtok', 0 - reserved_tokens)
    redis.call('HINCRBY', w, 'tok', tokens)
  end
  if ARGV[6 + i * 2] == '1' then
    if redis.call('DECR', p) < 0 then redis.call('SET', p, 0) end
  end
end
return spends
"""


def _num(value: float | int | None) -> str:
    return "-1" if value is None else repr(value)


@dataclass
class RedisCounters:
    local: MemoryLedger
    client: Any  # redis.asyncio.Redis
    namespace: str

    @classmethod
    def create(cls, local: MemoryLedger, redis_url: str, database_id: str) -> RedisCounters:
        import redis.asyncio as redis_asyncio

        digest = hashlib.sha256(database_id.encode()).hexdigest()[:12]
        return cls(local, redis_asyncio.Redis.from_url(redis_url), f"toolrelay:limits:{digest}")

    def _keys(self, ref: EntityRef, start: datetime) -> list[str]:
        base = f"{self.namespace}:{ref[0]}:{ref[1]}"
        return [f"{base}:budget", f"{base}:w:{int(start.timestamp())}", f"{base}:inflight"]

    async def admit(
        self, checks: list[Check], cost: float, tokens: int, now: datetime
    ) -> Reservation:
        import redis.exceptions

        start = window_start(now)
        keys: list[str] = []
        args: list[str] = [repr(now.timestamp()), repr(cost), str(tokens)]
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
            result = await self.client.eval(_ADMIT, len(keys), *keys, *args)
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning("redis unavailable; limits are per instance for now", error=repr(exc))
            return self.local.admit(checks, cost, tokens, now)
        if int(result[0]) != 0:
            raise self._refusal(checks[int(result[0]) - 1], result, start, now)
        return Reservation(
            refs=[c.ref for c in checks],
            cost=cost,
            tokens=tokens,
            window=start,
            parallel=[c.ref for c in checks if c.max_parallel_requests is not None],
            windowed=[c.ref for c in checks if c.rpm_limit is not None or c.tpm_limit is not None],
            shared=True,
        )

    @staticmethod
    def _refusal(
        check: Check, result: list[Any], start: datetime, now: datetime
    ) -> LimitExceededError:
        kind = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
        value = float(result[2])
        if kind == "budget":
            reset = float(result[4])
            resets_at = datetime.fromtimestamp(reset, UTC) if reset > 0 else None
            assert check.max_budget is not None
            return budget_exceeded(
                check.label, value, float(result[3]), check.max_budget, resets_at, now
            )
        if kind == "rpm":
            assert check.rpm_limit is not None
            return rpm_exceeded(check.label, check.rpm_limit, start + WINDOW, now)
        if kind == "tpm":
            assert check.tpm_limit is not None
            return tpm_exceeded(check.label, check.tpm_limit, int(value), start + WINDOW, now)
        assert check.max_parallel_requests is not None
        return parallel_exceeded(check.label, check.max_parallel_requests, now)

    async def settle(self, reservation: Reservation, cost: float, tokens: int) -> None:
        import redis.exceptions

        if not reservation.shared:
            self.local.settle(reservation, cost, tokens)
            return
        if reservation.settled:
            return
        reservation.settled = True
        keys: list[str] = []
        args = [repr(reservation.cost), repr(cost), str(reservation.tokens), str(tokens)]
        for ref in reservation.refs:
            keys += self._keys(ref, reservation.window)
            args += [
                "1" if ref in reservation.windowed else "0",
                "1" if ref in reservation.parallel else "0",
            ]
        try:
            spends = await self.client.eval(_SETTLE, len(keys), *keys, *args)
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning("redis unavailable; spend counted locally only", error=repr(exc))
            for ref in reservation.refs:
                self.local.add_spend(ref, cost)
            return
        for ref, spend in zip(reservation.refs, spends, strict=True):
            budget = self.local.budgets.get(ref)
            self.local.set_spend(ref, float(spend), budget.reset_at if budget else None)

    async def refresh(self, ref: EntityRef) -> None:
        """Mirror the shared spend locally (management reads, not the request path)."""
        import redis.exceptions

        try:
            spend = await self.client.hget(self._keys(ref, datetime.now(UTC))[0], "spend")
        except (OSError, redis.exceptions.RedisError):
            return
        if spend is not None:
            budget = self.local.budgets.get(ref)
            self.local.set_spend(ref, float(spend), budget.reset_at if budget else None)

    async def set_spend(self, ref: EntityRef, spend: float) -> None:
        """An admin's explicit spend (e.g. a reset to 0) replaces the shared total."""
        import redis.exceptions

        budget = self.local.budgets.get(ref)
        self.local.set_spend(ref, spend, budget.reset_at if budget else None)
        try:
            await self.client.hset(self._keys(ref, datetime.now(UTC))[0], "spend", repr(spend))
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning("redis unavailable; the spend reset is local only", error=repr(exc))

    async def close(self) -> None:
        await self.client.aclose()
