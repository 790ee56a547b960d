"""Router state shared through Redis, so that N gateway instances agree.

Hot path: one round trip per request (`acquire`, a Lua script that checks the cooldown,
the rpm and the parallel limit and counts the request atomically). Everything else stays
off the request path: releases, latencies and token counts are queued and written by a
background writer in one pipeline, and a background reader refreshes the in-memory
mirror (a `LocalState`) that strategies read.

If Redis goes away the router keeps serving from the mirror as in-process state; the
outage is logged once, Redis is re-checked every `recheck_seconds`, and its return is
logged too. Requests never fail because Redis did.

In-flight shares are held under the replica's lease (`gateway.limits.lease`): the share of a
replica that died is dropped by the survivors within one lease. The gateway passes its shared
client and lease; a state built without one (benchmarks, tests) keeps a lease of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis

from gateway.background import cancel_and_wait
from gateway.deployments import Deployment
from gateway.limits.lease import LEASE_PREFIX, SWEEP_LUA, ReplicaLease
from gateway.router.redis_io import (
    ACQUIRE,
    ADMISSION_BY_CODE,
    CONNECTION_ERRORS,
    FAILURE,
    decode_samples,
    encode_sample,
    text,
)
from gateway.router.state import Admission, DeploymentStats, LocalState, minute_of
from gateway.shared_redis import RedisCircuit

log = structlog.get_logger("toolrelay.gateway.router")


@dataclass(slots=True)
class _Pending:
    in_flight: int = 0
    tokens: dict[int, int] = field(default_factory=dict)
    latencies: list[str] = field(default_factory=list)
    first_token: list[str] = field(default_factory=list)


class RedisState:
    def __init__(
        self,
        client: Redis,
        deployments: Iterable[Deployment],
        *,
        namespace: str = "toolrelay:router",
        refresh_seconds: float = 0.5,
        recheck_seconds: float = 2.0,
        latency_ttl: float = 3600.0,
        flush_delay: float = 0.005,
        lease: ReplicaLease | None = None,
    ) -> None:
        self.client = client
        # Without a lease from the gateway this state owns the client and keeps its own lease.
        self._owns_client = lease is None
        self.lease = lease or ReplicaLease(client, RedisCircuit(client), uuid.uuid4().hex)
        self.instance = self.lease.instance
        self.local = LocalState(deployments)
        self.ids = list(self.local.deployments)
        self.namespace = namespace
        self.refresh_seconds = refresh_seconds
        self.recheck_seconds = recheck_seconds
        self.flush_delay = flush_delay
        self.latency_ttl = max(1, int(latency_ttl))
        self.healthy = True
        # Set while Redis is in use; cleared on an outage (lets callers wait for recovery).
        self.connected = asyncio.Event()
        self.connected.set()
        self._acquire = client.register_script(ACQUIRE)
        self._failure = client.register_script(FAILURE)
        self._sweep = client.register_script(SWEEP_LUA)
        self.lease.add_sweeper(self.sweep)
        self._pending: dict[str, _Pending] = {}
        # This instance's own in-flight requests, exact; Redis' view of them may lag behind
        # queued writes, so the mirror counts others' share from Redis plus this.
        self._own: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    # -- keys -------------------------------------------------------------------------
    def _key(self, deployment_id: str, what: str) -> str:
        return f"{self.namespace}:{deployment_id}:{what}"

    # -- reads ------------------------------------------------------------------------
    @property
    def blocked(self) -> Mapping[str, float]:
        return self.local.blocked

    def view(self, deployment_id: str) -> DeploymentStats:
        self._ensure_tasks()
        return self.local.view(deployment_id)

    # -- the one awaited call ---------------------------------------------------------
    async def acquire(self, deployment: Deployment, now: float) -> Admission:
        self._ensure_tasks()
        if not self.healthy:
            return await self._acquire_locally(deployment, now)
        minute = minute_of(now)
        stats = self.local.view(deployment.id)
        # tpm is only known after the fact, so the mirror is the best view of it.
        if deployment.tpm is not None and stats.tpm(minute) >= deployment.tpm:
            return Admission.TPM_LIMIT
        keys = [
            self._key(deployment.id, "cool"),
            self._key(deployment.id, f"rpm:{minute}"),
            self._key(deployment.id, "inflight"),
        ]
        args: list[int | str] = [
            -1 if deployment.rpm is None else deployment.rpm,
            -1 if deployment.max_parallel_requests is None else deployment.max_parallel_requests,
            self.instance,
            LEASE_PREFIX,
            self.lease.ttl_ms,
        ]
        try:
            code, value, *mine = await self._acquire(keys=keys, args=args)
        except CONNECTION_ERRORS as exc:
            self._went_down(exc)
            return await self._acquire_locally(deployment, now)
        code, value = int(code), int(value)
        self.local.deployments.setdefault(deployment.id, deployment)
        if code < 0:
            verdict = ADMISSION_BY_CODE[code]
            if verdict is Admission.COOLING:
                stats.cooldown_until = now + value / 1000
            elif verdict is Admission.RPM_LIMIT:
                stats.roll(minute)
                stats.requests = value
            else:
                stats.in_flight = max(value, self._own.get(deployment.id, 0))
            self.local.reassess(deployment.id, now)
            return verdict
        own = self._own[deployment.id] = self._own.get(deployment.id, 0) + 1
        stats.roll(minute)
        stats.requests = code
        stats.in_flight = value - int(mine[0]) + own
        self.local.reassess(deployment.id, now)
        return Admission.OK

    async def _acquire_locally(self, deployment: Deployment, now: float) -> Admission:
        verdict = await self.local.acquire(deployment, now)
        if verdict is Admission.OK:
            self._own[deployment.id] = self._own.get(deployment.id, 0) + 1
        return verdict

    # -- queued writes ----------------------------------------------------------------
    async def release(
        self, deployment_id: str, now: float, latency: float | None, first_token: bool
    ) -> None:
        await self.local.release(deployment_id, now, latency, first_token)
        self._own[deployment_id] = max(0, self._own.get(deployment_id, 0) - 1)
        if not self.healthy:
            return
        pending = self._queue(deployment_id)
        pending.in_flight -= 1
        if latency is not None:
            (pending.first_token if first_token else pending.latencies).append(
                encode_sample(now, latency)
            )

    async def record_tokens(self, deployment_id: str, tokens: int, now: float) -> None:
        await self.local.record_tokens(deployment_id, tokens, now)
        if not self.healthy:
            return
        pending = self._queue(deployment_id).tokens
        minute = minute_of(now)
        pending[minute] = pending.get(minute, 0) + tokens

    def _queue(self, deployment_id: str) -> _Pending:
        self._ensure_tasks()
        self._wake.set()
        pending = self._pending.get(deployment_id)
        if pending is None:
            pending = self._pending[deployment_id] = _Pending()
        return pending

    # -- failures (rare path, awaited so that peers see the cooldown at once) ----------
    async def record_failure(
        self,
        deployment_id: str,
        now: float,
        *,
        immediate: bool,
        allowed_fails: int,
        cooldown_seconds: float,
    ) -> bool:
        if self.healthy:
            keys = [
                self._key(deployment_id, "cool"),
                self._key(deployment_id, f"fails:{minute_of(now)}"),
            ]
            args = ["1" if immediate else "0", allowed_fails, max(1, int(cooldown_seconds * 1000))]
            try:
                cooled = bool(await self._failure(keys=keys, args=args))
            except CONNECTION_ERRORS as exc:
                self._went_down(exc)
            else:
                if cooled:
                    self.local.view(deployment_id).cooldown_until = now + cooldown_seconds
                    self.local.reassess(deployment_id, now)
                return cooled
        return await self.local.record_failure(
            deployment_id,
            now,
            immediate=immediate,
            allowed_fails=allowed_fails,
            cooldown_seconds=cooldown_seconds,
        )

    # -- health -----------------------------------------------------------------------
    def _went_down(self, exc: BaseException) -> None:
        if self.healthy:
            self.healthy = False
            self.connected.clear()
            self._pending.clear()
            log.warning(
                "redis unreachable: router state is in-process until it returns",
                error=f"{type(exc).__name__}: {exc}",
                recheck_seconds=self.recheck_seconds,
            )

    # -- background tasks -------------------------------------------------------------
    def _ensure_tasks(self) -> None:
        if self._tasks or self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._tasks = [
            asyncio.create_task(self._writer(), name="router-redis-writer"),
            asyncio.create_task(self._reader(), name="router-redis-reader"),
        ]
        if self._owns_client:
            self.lease.start()

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            # A short pause gathers the writes of concurrent requests into one pipeline.
            await asyncio.sleep(self.flush_delay)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write queued releases, latencies and token counts in one pipeline (waits for a
        flush already under way, so that after it returns everything queued is written)."""
        async with self._flush_lock:
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending or not self.healthy:
            return
        pending, self._pending = self._pending, {}
        pipe = self.client.pipeline(transaction=False)
        for deployment_id, item in pending.items():
            if item.in_flight:
                pipe.hincrby(self._key(deployment_id, "inflight"), self.instance, item.in_flight)
            for minute, tokens in item.tokens.items():
                key = self._key(deployment_id, f"tpm:{minute}")
                pipe.incrby(key, tokens)
                pipe.expire(key, 120)
            for name, samples in (("lat", item.latencies), ("ttft", item.first_token)):
                if samples:
                    key = self._key(deployment_id, name)
                    pipe.lpush(key, *samples)
                    pipe.ltrim(key, 0, 9)
                    pipe.expire(key, self.latency_ttl)
        try:
            await pipe.execute()
        except CONNECTION_ERRORS as exc:
            self._went_down(exc)

    async def _reader(self) -> None:
        while True:
            if self.healthy:
                await self.refresh()
                await asyncio.sleep(self.refresh_seconds)
            else:
                await asyncio.sleep(self.recheck_seconds)
                await self._recheck()

    async def _recheck(self) -> None:
        # Pooled connections from before the outage are dead; start afresh.
        # Only idle ones: the client is shared, others may be using theirs.
        with contextlib.suppress(*CONNECTION_ERRORS):
            await self.client.connection_pool.disconnect(inuse_connections=False)
        # Restate this instance's in-flight share: requests that ended during the outage
        # could not decrement the shared count.
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.lease.key, b"1", px=self.lease.ttl_ms)
        for deployment_id in self.ids:
            key = self._key(deployment_id, "inflight")
            pipe.hset(key, self.instance, self._own.get(deployment_id, 0))
            pipe.expire(key, 600)
        try:
            await pipe.execute()
        except CONNECTION_ERRORS:
            return
        log.info("redis reachable again: router state is shared")
        self.healthy = True
        self.connected.set()

    async def refresh(self, now: float | None = None) -> None:
        """Re-read every deployment's shared counters into the local mirror."""
        wall = time.time() if now is None else now
        minute = minute_of(wall)
        pipe = self.client.pipeline(transaction=False)
        for deployment_id in self.ids:
            pipe.hgetall(self._key(deployment_id, "inflight"))
            pipe.get(self._key(deployment_id, f"rpm:{minute}"))
            pipe.get(self._key(deployment_id, f"tpm:{minute}"))
            pipe.lrange(self._key(deployment_id, "lat"), 0, 9)
            pipe.lrange(self._key(deployment_id, "ttft"), 0, 9)
            pipe.pttl(self._key(deployment_id, "cool"))
        try:
            values = await pipe.execute()
        except CONNECTION_ERRORS as exc:
            self._went_down(exc)
            return
        for i, deployment_id in enumerate(self.ids):
            inflight, rpm, tpm, lat, ttft, cool = values[i * 6 : i * 6 + 6]
            stats = self.local.view(deployment_id)
            stats.roll(minute)
            others = sum(int(v) for k, v in inflight.items() if text(k) != self.instance)
            stats.in_flight = max(0, others) + self._own.get(deployment_id, 0)
            stats.requests = int(rpm or 0)
            stats.tokens = int(tpm or 0)
            stats.latencies.clear()
            stats.latencies.extend(decode_samples(lat))
            stats.first_token.clear()
            stats.first_token.extend(decode_samples(ttft))
            stats.cooldown_until = wall + int(cool) / 1000 if int(cool) > 0 else 0.0
            self.local.reassess(deployment_id, wall)

    def track(self, deployment: Deployment) -> None:
        self.local.track(deployment)
        if deployment.id not in self.ids:
            self.ids.append(deployment.id)

    def forget(self, deployment_id: str) -> None:
        # Shared counters expire by themselves (per-minute keys, TTLs); ids are never reused.
        self.local.forget(deployment_id)
        self._own.pop(deployment_id, None)
        if deployment_id in self.ids:
            self.ids.remove(deployment_id)

    async def sweep(self) -> None:
        """Drop the in-flight shares of replicas whose lease expired (every heartbeat)."""
        if not self.healthy or not self.ids:
            return
        keys = [self._key(deployment_id, "inflight") for deployment_id in self.ids]
        try:
            released = int(await self._sweep(keys=keys, args=[LEASE_PREFIX]))
        except CONNECTION_ERRORS as exc:
            self._went_down(exc)
            return
        if released:
            log.info("dropped the router in-flight shares of replicas that stopped renewing")

    async def aclose(self) -> None:
        self._closed = True
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks = []
        with contextlib.suppress(*CONNECTION_ERRORS):
            await self.flush()
            if self.healthy and self.ids:
                pipe = self.client.pipeline(transaction=False)
                for deployment_id in self.ids:
                    pipe.hdel(self._key(deployment_id, "inflight"), self.instance)
                await pipe.execute()
        if self._owns_client:
            await self.lease.stop()
            await self.client.aclose()
