"""Redis specifics of the shared router state: the client settings, the two Lua scripts
(each one round trip, atomic), and the latency sample encoding."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from gateway.limits.lease import LIVE_SUM_LUA
from gateway.router.state import Admission
from gateway.shared_redis import CONNECTION_ERRORS, build_redis_client

# Checks a deployment's cooldown, rpm and parallel limits and counts the request if admitted.
# In-flight counts are a hash with one field per gateway instance, so an instance can restate
# its own share after a Redis outage instead of leaving the shared count drifted; a field whose
# instance's lease expired (the replica died) is not counted and is deleted (see `lease.py`).
# KEYS: cooldown, rpm(minute), inflight.
# ARGV: rpm limit, parallel limit (-1 = none), instance, lease prefix, lease ms.
ACQUIRE = (
    LIVE_SUM_LUA
    + """
redis.call('SET', ARGV[4] .. ARGV[3], '1', 'PX', ARGV[5])
local cool = redis.call('PTTL', KEYS[1])
if cool > 0 then return {-1, cool} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) >= 0 and used >= tonumber(ARGV[1]) then return {-2, used} end
local busy = live_sum(KEYS[3], ARGV[3], ARGV[4])
if tonumber(ARGV[2]) >= 0 and busy >= tonumber(ARGV[2]) then return {-3, busy} end
used = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 120)
local mine = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('EXPIRE', KEYS[3], 600)
return {used, busy + 1, mine}
"""
)

# Counts a failure in the minute's window and starts a cooldown when warranted.
# KEYS: cooldown, fails(minute). ARGV: immediate (1/0), allowed fails, cooldown ms.
FAILURE = """
local n = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 120)
if ARGV[1] == '1' or n > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
  return 1
end
return 0
"""

ADMISSION_BY_CODE = {-1: Admission.COOLING, -2: Admission.RPM_LIMIT, -3: Admission.PARALLEL_LIMIT}
__all__ = ["CONNECTION_ERRORS", "redis_client"]


def redis_client(url: str, timeout: float = 0.5) -> Redis:
    """A router-only client (benchmarks, tests); the gateway passes its shared one."""
    return build_redis_client(url, timeout)


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def encode_sample(at: float, seconds: float) -> str:
    return f"{at:.3f}:{seconds:.6f}"


def decode_samples(raw: Sequence[bytes | str]) -> list[tuple[float, float]]:
    samples: list[tuple[float, float]] = []
    for item in reversed(raw):  # LPUSH stores newest first; deques keep oldest first
        at, _, seconds = text(item).partition(":")
        try:
            samples.append((float(at), float(seconds)))
        except ValueError:
            continue
    return samples
