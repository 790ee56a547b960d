"""Builders for router tests: deployments, fake attempts, a controllable clock."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gateway.deployments import Deployment
from gateway.errors import GatewayError
from gateway.router import ModelGroups, Router
from gateway.router.cooldown import CooldownPolicy
from gateway.router.fallbacks import Fallbacks
from gateway.router.state import LocalState, RouterState
from gateway.router.strategies import STRATEGIES, strategy_named

# A fixed moment in the middle of a minute, so per-minute windows never roll mid-test.
T0 = 1_800_000_030.0


def deployment(deployment_id: str, group: str = "g", **params: Any) -> Deployment:
    return Deployment(
        id=deployment_id, model_name=group, provider="openai", model=deployment_id, **params
    )


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sleeps:
    """Records the router's backoff sleeps instead of sleeping."""

    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass
class Upstream:
    """A scripted attempt: per deployment id, a list of errors to raise before succeeding."""

    failures: dict[str, list[GatewayError]] = field(default_factory=dict)
    always: dict[str, Callable[[], GatewayError]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def __call__(self, d: Deployment) -> str:
        self.calls.append(d.id)
        if d.id in self.always:
            raise self.always[d.id]()
        queued = self.failures.get(d.id)
        if queued:
            raise queued.pop(0)
        return d.id


def make_router(
    deployments: Iterable[Deployment],
    *,
    strategy: str = "simple-shuffle",
    strategy_args: dict[str, Any] | None = None,
    state: RouterState | None = None,
    fallbacks: Fallbacks | None = None,
    cooldown: CooldownPolicy | None = None,
    num_retries: int = 2,
    seed: int = 7,
    clock: Clock | None = None,
    sleeps: Sleeps | None = None,
) -> Router:
    assert strategy in STRATEGIES
    rng = random.Random(seed)
    return Router(
        groups=ModelGroups.from_deployments(deployments),
        strategy=strategy_named(strategy, rng, strategy_args or {}),
        state=state if state is not None else LocalState(),
        fallbacks=fallbacks or Fallbacks(),
        cooldown=cooldown or CooldownPolicy(),
        num_retries=num_retries,
        rng=rng,
        clock=clock or Clock(),
        sleep=sleeps or Sleeps(),
    )
