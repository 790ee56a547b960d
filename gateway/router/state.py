"""The router's shared state: in-flight counts, per-minute usage, latency and cooldowns.

`RouterState` is the interface; `LocalState` keeps it in this process and
`gateway.router.redis_state.RedisState` shares it between gateway instances. Reads
(`view`) are synchronous and answered from memory so that picking a deployment never waits
on the network; `acquire` is the one awaited call before an upstream request, and it is
where limits and cooldowns are enforced atomically.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gateway.deployments import Deployment

LATENCY_SAMPLES = 10


def minute_of(now: float) -> int:
    return int(now // 60)


class Admission(enum.Enum):
    OK = "ok"
    COOLING = "cooling down"
    RPM_LIMIT = "rpm limit reached"
    TPM_LIMIT = "tpm limit reached"
    PARALLEL_LIMIT = "max_parallel_requests reached"


@dataclass(slots=True)
class DeploymentStats:
    """What the strategies read about one deployment (possibly a moment stale with Redis)."""

    in_flight: int = 0
    minute: int = 0
    requests: int = 0
    tokens: int = 0
    latencies: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=LATENCY_SAMPLES)
    )
    first_token: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=LATENCY_SAMPLES)
    )
    cooldown_until: float = 0.0
    fail_minute: int = 0
    fails: int = 0

    def rpm(self, minute: int) -> int:
        return self.requests if self.minute == minute else 0

    def tpm(self, minute: int) -> int:
        return self.tokens if self.minute == minute else 0

    def roll(self, minute: int) -> None:
        if self.minute != minute:
            self.minute, self.requests, self.tokens = minute, 0, 0


def admission_for(deployment: Deployment, stats: DeploymentStats, now: float) -> Admission:
    """The limit check on a view of the stats (exact for `LocalState`)."""
    if stats.cooldown_until > now:
        return Admission.COOLING
    minute = minute_of(now)
    if deployment.rpm is not None and stats.rpm(minute) >= deployment.rpm:
        return Admission.RPM_LIMIT
    if deployment.tpm is not None and stats.tpm(minute) >= deployment.tpm:
        return Admission.TPM_LIMIT
    if (
        deployment.max_parallel_requests is not None
        and stats.in_flight >= deployment.max_parallel_requests
    ):
        return Admission.PARALLEL_LIMIT
    return Admission.OK


class RouterState(Protocol):
    @property
    def blocked(self) -> Mapping[str, float]:
        """Deployments that are cooling down or at a limit, with when that ends (inf: when
        a request ends). Kept up to date on every change so that picking a deployment
        costs one lookup per deployment, not a limit check."""
        ...

    def view(self, deployment_id: str) -> DeploymentStats: ...

    async def acquire(self, deployment: Deployment, now: float) -> Admission:
        """Check cooldown and limits and, if admitted, count the request (rpm, in-flight)."""
        ...

    async def release(
        self, deployment_id: str, now: float, latency: float | None, first_token: bool
    ) -> None:
        """End an admitted request; `latency` is None when it failed."""
        ...

    async def record_tokens(self, deployment_id: str, tokens: int, now: float) -> None: ...

    def track(self, deployment: Deployment) -> None: ...

    def forget(self, deployment_id: str) -> None: ...

    async def record_failure(
        self,
        deployment_id: str,
        now: float,
        *,
        immediate: bool,
        allowed_fails: int,
        cooldown_seconds: float,
    ) -> bool:
        """Count a failure; True when the deployment is now cooling down."""
        ...

    async def aclose(self) -> None: ...


class LocalState:
    """Router state for one process; also the mirror and the fallback of `RedisState`."""

    def __init__(self, deployments: Iterable[Deployment] = ()) -> None:
        self.stats: dict[str, DeploymentStats] = {}
        self.deployments: dict[str, Deployment] = {d.id: d for d in deployments}
        self._blocked: dict[str, float] = {}

    @property
    def blocked(self) -> Mapping[str, float]:
        return self._blocked

    def view(self, deployment_id: str) -> DeploymentStats:
        stats = self.stats.get(deployment_id)
        if stats is None:
            stats = self.stats[deployment_id] = DeploymentStats()
        return stats

    def reassess(self, deployment_id: str, now: float) -> None:
        """Recompute whether `deployment_id` is blocked, and until when."""
        stats = self.view(deployment_id)
        until = stats.cooldown_until
        deployment = self.deployments.get(deployment_id)
        if deployment is not None:
            minute = minute_of(now)
            end_of_minute = (minute + 1) * 60.0
            if deployment.rpm is not None and stats.rpm(minute) >= deployment.rpm:
                until = max(until, end_of_minute)
            if deployment.tpm is not None and stats.tpm(minute) >= deployment.tpm:
                until = max(until, end_of_minute)
            limit = deployment.max_parallel_requests
            if limit is not None and stats.in_flight >= limit:
                until = math.inf
        if until > now:
            self._blocked[deployment_id] = until
        else:
            self._blocked.pop(deployment_id, None)

    async def acquire(self, deployment: Deployment, now: float) -> Admission:
        self.deployments.setdefault(deployment.id, deployment)
        stats = self.view(deployment.id)
        verdict = admission_for(deployment, stats, now)
        if verdict is Admission.OK:
            self.count_admitted(stats, now)
        self.reassess(deployment.id, now)
        return verdict

    @staticmethod
    def count_admitted(stats: DeploymentStats, now: float) -> None:
        stats.roll(minute_of(now))
        stats.requests += 1
        stats.in_flight += 1

    async def release(
        self, deployment_id: str, now: float, latency: float | None, first_token: bool
    ) -> None:
        stats = self.view(deployment_id)
        stats.in_flight = max(0, stats.in_flight - 1)
        if latency is not None:
            (stats.first_token if first_token else stats.latencies).append((now, latency))
        if deployment_id in self._blocked:
            self.reassess(deployment_id, now)

    async def record_tokens(self, deployment_id: str, tokens: int, now: float) -> None:
        stats = self.view(deployment_id)
        stats.roll(minute_of(now))
        stats.tokens += tokens
        self.reassess(deployment_id, now)

    async def record_failure(
        self,
        deployment_id: str,
        now: float,
        *,
        immediate: bool,
        allowed_fails: int,
        cooldown_seconds: float,
    ) -> bool:
        stats = self.view(deployment_id)
        minute = minute_of(now)
        if stats.fail_minute != minute:
            stats.fail_minute, stats.fails = minute, 0
        stats.fails += 1
        if immediate or stats.fails > allowed_fails:
            stats.cooldown_until = now + cooldown_seconds
            self.reassess(deployment_id, now)
            return True
        return False

    def track(self, deployment: Deployment) -> None:
        """A deployment added (or changed) at runtime."""
        self.deployments[deployment.id] = deployment

    def forget(self, deployment_id: str) -> None:
        """A deployment removed (or changed) at runtime: its counters and cooldown go too."""
        self.deployments.pop(deployment_id, None)
        self.stats.pop(deployment_id, None)
        self._blocked.pop(deployment_id, None)

    async def aclose(self) -> None:
        return None
