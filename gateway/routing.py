"""Model groups and deployment choice.

`Router.run` is the single seam through which every upstream call goes: it picks a
deployment and runs the attempt on it. Retries, fallbacks and cooldowns live behind it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from gateway.deployments import Deployment
from gateway.errors import UnknownModelError

T = TypeVar("T")
Attempt = Callable[[Deployment], Awaitable[T]]


@dataclass
class ModelGroups:
    groups: dict[str, list[Deployment]]

    @classmethod
    def from_deployments(cls, deployments: Iterable[Deployment]) -> ModelGroups:
        groups: dict[str, list[Deployment]] = {}
        for deployment in deployments:
            groups.setdefault(deployment.model_name, []).append(deployment)
        return cls(groups)

    def names(self) -> list[str]:
        return list(self.groups)

    def all(self) -> list[Deployment]:
        return [d for group in self.groups.values() for d in group]

    def get(self, name: str) -> list[Deployment]:
        found = self.groups.get(name)
        if not found:
            available = ", ".join(sorted(self.groups)) or "(none configured)"
            raise UnknownModelError(
                f"Invalid model name passed in model={name}. Available models: {available}",
                param="model",
            )
        return found


def weight_of(deployment: Deployment) -> float:
    """simple-shuffle weights: explicit weight, else rpm, else tpm, else equal."""
    for value in (deployment.weight, deployment.rpm, deployment.tpm):
        if value is not None:
            return float(value)
    return 1.0


@dataclass
class Router:
    groups: ModelGroups
    rng: random.Random = field(default_factory=random.Random)

    def choose(self, group: str) -> Deployment:
        deployments = self.groups.get(group)
        lowest_order = min((d.order for d in deployments if d.order is not None), default=None)
        if lowest_order is not None:
            deployments = [d for d in deployments if d.order == lowest_order]
        if len(deployments) == 1:
            return deployments[0]
        weights = [weight_of(d) for d in deployments]
        if not any(weights):
            return self.rng.choice(deployments)
        return self.rng.choices(deployments, weights=weights, k=1)[0]

    async def run(self, group: str, attempt: Attempt[T]) -> T:
        return await attempt(self.choose(group))
