"""Model groups: `model_list` entries that share a `model_name`, and the names that stand for a
group (`router_settings.model_group_alias`, LiteLLM's: a request for the alias is served by the
group; an alias is listed in `/v1/models` unless `hidden`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.deployments import Deployment
from gateway.errors import UnknownModelError


@dataclass
class ModelGroups:
    groups: dict[str, list[Deployment]]
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> group
    hidden: frozenset[str] = frozenset()  # aliases left out of names()

    @classmethod
    def from_deployments(cls, deployments: Iterable[Deployment]) -> ModelGroups:
        groups: dict[str, list[Deployment]] = {}
        for deployment in deployments:
            groups.setdefault(deployment.model_name, []).append(deployment)
        return cls(groups)

    def names(self) -> list[str]:
        """The group names, then the aliases that are not hidden and whose group exists."""
        shown = [
            alias
            for alias, group in self.aliases.items()
            if alias not in self.hidden and alias not in self.groups and group in self.groups
        ]
        return [*self.groups, *shown]

    def all(self) -> list[Deployment]:
        return [d for group in self.groups.values() for d in group]

    def group_name(self, name: str) -> str:
        """The group a requested name stands for (a group's own name wins over an alias)."""
        return name if name in self.groups else self.aliases.get(name, name)

    def find(self, name: str) -> list[Deployment]:
        """The deployments serving `name`, or [] when it names nothing."""
        return self.groups.get(self.group_name(name)) or []

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.find(name))

    def get(self, name: str) -> list[Deployment]:
        found = self.find(name)
        if not found:
            available = ", ".join(sorted(self.names())) or "(none configured)"
            raise UnknownModelError(
                f"Invalid model name passed in model={name}. Available models: {available}",
                param="model",
            )
        return found
