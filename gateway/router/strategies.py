"""Routing strategies: each picks one deployment from candidates that are healthy, not
cooling down and under their limits (the router filters; strategies only rank).

`router_settings.routing_strategy` names one of `STRATEGIES`; unknown names fall back to
`simple-shuffle` with a warning.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.deployments import Deployment
from gateway.router.state import DeploymentStats, minute_of


class StatsView(Protocol):
    def view(self, deployment_id: str) -> DeploymentStats: ...


class Strategy(Protocol):
    def pick(
        self, candidates: Sequence[Deployment], state: StatsView, now: float, stream: bool
    ) -> Deployment: ...


def weight_of(deployment: Deployment) -> float:
    """simple-shuffle weights: explicit weight, else rpm, else tpm, else equal."""
    for value in (deployment.weight, deployment.rpm, deployment.tpm):
        if value is not None:
            return float(value)
    return 1.0


def _lowest(
    candidates: Sequence[Deployment], score: Callable[[Deployment], float], rng: random.Random
) -> Deployment:
    """The candidate with the lowest score; ties broken at random so load spreads."""
    best: list[Deployment] = []
    best_score = math.inf
    for deployment in candidates:
        value = score(deployment)
        if value < best_score:
            best, best_score = [deployment], value
        elif value == best_score:
            best.append(deployment)
    if not best:  # every score is inf
        best = list(candidates)
    return best[0] if len(best) == 1 else rng.choice(best)


@dataclass
class SimpleShuffle:
    rng: random.Random
    _weights: dict[str, float] = field(default_factory=dict, repr=False)

    def pick(
        self, candidates: Sequence[Deployment], state: StatsView, now: float, stream: bool
    ) -> Deployment:
        if len(candidates) == 1:
            return candidates[0]
        known = self._weights
        weights = [known.get(d.id) or known.setdefault(d.id, weight_of(d)) for d in candidates]
        if not any(weights):
            return self.rng.choice(candidates)
        return self.rng.choices(candidates, weights=weights, k=1)[0]


@dataclass
class LeastBusy:
    rng: random.Random

    def pick(
        self, candidates: Sequence[Deployment], state: StatsView, now: float, stream: bool
    ) -> Deployment:
        return _lowest(candidates, lambda d: state.view(d.id).in_flight, self.rng)


@dataclass
class LowestUsage:
    """usage-based-routing (v1 and v2): the lowest TPM used this minute, then lowest RPM."""

    rng: random.Random

    def pick(
        self, candidates: Sequence[Deployment], state: StatsView, now: float, stream: bool
    ) -> Deployment:
        minute = minute_of(now)

        def used(d: Deployment) -> float:
            stats = state.view(d.id)
            return stats.tpm(minute) + stats.rpm(minute) / 1e6

        return _lowest(candidates, used, self.rng)


@dataclass
class LowestLatency:
    """The lowest recent average latency (time to first token for streams, when known).

    A deployment with no recent samples scores 0, so new or idle deployments get traffic
    and are measured. `buffer` (LiteLLM's `lowest_latency_buffer`) spreads load over every
    deployment within that fraction of the best.
    """

    rng: random.Random
    ttl: float = 3600.0
    buffer: float = 0.0

    def _latency(self, stats: DeploymentStats, now: float, stream: bool) -> float:
        samples = stats.first_token if stream and stats.first_token else stats.latencies
        recent = [seconds for at, seconds in samples if now - at <= self.ttl]
        return sum(recent) / len(recent) if recent else 0.0

    def pick(
        self, candidates: Sequence[Deployment], state: StatsView, now: float, stream: bool
    ) -> Deployment:
        if len(candidates) == 1:
            return candidates[0]
        scored = [(self._latency(state.view(d.id), now, stream), d) for d in candidates]
        best = min(score for score, _ in scored)
        limit = best * (1 + self.buffer)
        near = [d for score, d in scored if score <= limit]
        return near[0] if len(near) == 1 else self.rng.choice(near)


@dataclass
class LowestCost:
    """The cheapest deployment by its per-token costs; with no costs, all are equal."""

    rng: random.Random
    _costs: dict[str, float] = field(default_factory=dict, repr=False)

    def _cost(self, deployment: Deployment) -> float:
        found = self._costs.get(deployment.id)
        if found is None:
            found = self._costs[deployment.id] = cost_of(deployment)
        return found

    def pick(
        self, candidates: Sequence[Deployment], state: StatsView, now: float, stream: bool
    ) -> Deployment:
        return _lowest(candidates, self._cost, self.rng)


def cost_of(deployment: Deployment) -> float:
    prices = (deployment.input_cost_per_token, deployment.output_cost_per_token)
    if all(p is None for p in prices):
        return math.inf  # unknown cost ranks after known ones; all unknown ties
    return sum(p or 0.0 for p in prices)


def _latency_strategy(rng: random.Random, args: Mapping[str, Any]) -> Strategy:
    return LowestLatency(
        rng,
        ttl=float(args.get("ttl", 3600.0)),
        buffer=float(args.get("lowest_latency_buffer", 0.0)),
    )


STRATEGIES: dict[str, Callable[[random.Random, Mapping[str, Any]], Strategy]] = {
    "simple-shuffle": lambda rng, _args: SimpleShuffle(rng),
    "least-busy": lambda rng, _args: LeastBusy(rng),
    "usage-based-routing": lambda rng, _args: LowestUsage(rng),
    "usage-based-routing-v2": lambda rng, _args: LowestUsage(rng),
    "latency-based-routing": _latency_strategy,
    "cost-based-routing": lambda rng, _args: LowestCost(rng),
}
DEFAULT_STRATEGY = "simple-shuffle"


def strategy_named(name: str, rng: random.Random, args: Mapping[str, Any]) -> Strategy:
    """The strategy for `name`; KeyError for a name we do not implement."""
    return STRATEGIES[name](rng, args)
