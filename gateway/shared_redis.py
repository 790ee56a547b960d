"""The one Redis client of a gateway process, and the circuit that decides when to stop using it.

The client fails fast: explicit socket and connect timeouts in the hundreds of milliseconds
(the hot path waits on it) and no retries (redis-py 8 retries by default; a retry would only
double the stall before the degraded mode). Limits, spend, router state, key invalidations and
the response cache all share it, so an outage is seen once, not four times.

`RedisCircuit` opens on the first refused or dropped connection: callers check `available` and
go straight to their degraded mode without touching the socket. A lone timeout does not open
it: a busy host can stall the event loop past the timeout while Redis has long answered, and
one stall must not turn shared limits into per-replica ones for a second. The call that timed
out takes its degraded mode either way; the circuit opens when timeouts repeat
(`TIMEOUT_STRIKES` within `TIMEOUT_WINDOW_SECONDS`), which a hung Redis produces at once.
A probe pings every `probe_seconds`; when Redis answers, the recovery callbacks restate what
this replica holds and the circuit closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.background import cancel_and_wait

log = structlog.get_logger("toolrelay.redis")

HOT_PATH_TIMEOUT_SECONDS = 0.25
TIMEOUT_STRIKES = 3
TIMEOUT_WINDOW_SECONDS = 10.0
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)

Recovery = Callable[[], Awaitable[None]]


def build_redis_client(url: str, timeout: float = HOT_PATH_TIMEOUT_SECONDS) -> Redis:
    """Bytes in, bytes out (the cache stores bytes); no retries; short timeouts."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


@dataclass
class RedisCircuit:
    client: Redis
    probe_seconds: float = 1.0
    opened: bool = False
    trips: int = 0
    timeout_strikes: int = TIMEOUT_STRIKES
    timeout_window_seconds: float = TIMEOUT_WINDOW_SECONDS
    _recent_timeouts: list[float] = field(default_factory=list)
    _recoveries: list[Recovery] = field(default_factory=list)
    _probe: asyncio.Task[None] | None = None

    @property
    def available(self) -> bool:
        return not self.opened

    def on_recovery(self, callback: Recovery) -> None:
        """Run (in registration order) before the circuit closes again."""
        self._recoveries.append(callback)

    def trip(self, exc: BaseException, *, during: str) -> None:
        if self.opened:
            return
        if _is_timeout(exc) and not self._timeouts_repeat():
            log.info("redis call timed out; an outage only if it repeats", during=during)
            return
        self._recent_timeouts.clear()
        self.opened = True
        self.trips += 1
        log.warning(
            "redis unreachable: limits are per replica and spend goes to the local journal "
            "until it returns",
            during=during,
            error=f"{type(exc).__name__}: {exc}",
            probe_seconds=self.probe_seconds,
        )
        try:
            self._probe = asyncio.get_running_loop().create_task(
                self._probe_until_back(), name="redis-probe"
            )
        except RuntimeError:  # no loop (a synchronous caller); the next async call probes
            self._probe = None

    def _timeouts_repeat(self) -> bool:
        now = time.monotonic()
        horizon = now - self.timeout_window_seconds
        self._recent_timeouts[:] = [at for at in self._recent_timeouts if at > horizon]
        self._recent_timeouts.append(now)
        return len(self._recent_timeouts) >= self.timeout_strikes

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(self.probe_seconds)
            # Pooled connections from before the outage are dead; start afresh.
            # Only idle ones: the client is shared, others may be using theirs.
            with contextlib.suppress(*CONNECTION_ERRORS):
                await self.client.connection_pool.disconnect(inuse_connections=False)
            try:
                await self.client.ping()
                for recover in self._recoveries:
                    await recover()
            except CONNECTION_ERRORS:
                continue
            self.opened = False
            log.info("redis reachable again: limits and spend are shared")
            return

    async def aclose(self) -> None:
        if self._probe is not None:
            await cancel_and_wait(self._probe)
            self._probe = None


def _is_timeout(exc: BaseException) -> bool:
    # redis-py raises its own TimeoutError for socket timeouts; asyncio's for cancelled waits
    return isinstance(exc, (RedisTimeoutError, asyncio.TimeoutError, TimeoutError))
