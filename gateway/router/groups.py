"""Model groups: `model_list` entries that share a `model_name`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.deployments import Deployment
from gateway.errors import UnknownModelError


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

    def __contains__(self, name: object) -> bool:
        return name in self.groups

    def get(self, name: str) -> list[Deployment]:
        found = self.groups.get(name)
        if not found:
            available = ", ".join(sorted(self.groups)) or "(none configured)"
            raise UnknownModelError(
                f"Invalid model name passed in model={name}. Available models: {available}",
                param="model",
            )
        return found
