"""Redis specifics of the shared router state: the client settings, the two Lua scripts
(each one round trip, atomic), and the latency sample encoding."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.router.state import Admission

# Checks a deployment's cooldown, rpm and parallel limits and counts the request if admitted.
# In-flight counts are a hash with one field per gateway instance, so an instance can restate
# its own share after a Redis outage instead of leaving the shared count drifted.
# KEYS: cooldown, rpm(minute), inflight. ARGV: rpm limit, parallel limit (-1 = none), instance.
ACQUIRE = """
local cool = redis.call('PTTL', KEYS[1])
if cool > 0 then return {-1, cool} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) >= 0 and used >= tonumber(ARGV[1]) then return {-2, used} end
local busy = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do busy = busy + tonumber(v) end
if tonumber(ARGV[2]) >= 0 and busy >= tonumber(ARGV[2]) then return {-3, busy} end
used = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 120)
local mine = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('EXPIRE', KEYS[3], 600)
return {used, busy + 1, mine}
"""

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
CONNECTION_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


def redis_client(url: str, timeout: float = 0.5) -> Redis:
    """A client that fails fast instead of retrying: the router degrades, it does not wait."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


def encode_sample(at: float, seconds: float) -> str:
    return f"{at:.3f}:{seconds:.6f}"


def decode_samples(raw: list[str]) -> list[tuple[float, float]]:
    samples: list[tuple[float, float]] = []
    for item in reversed(raw):  # LPUSH stores newest first; deques keep oldest first
        at, _, seconds = item.partition(":")
        try:
            samples.append((float(at), float(seconds)))
        except ValueError:
            continue
    return samples
