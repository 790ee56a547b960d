"""Choose a provider by the `provider/` prefix of a deployment's model: a table, not a chain."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from gateway.deployments import Deployment
from gateway.errors import BadRequestError
from gateway.providers import (
    anthropic,
    azure,
    bedrock,
    bedrock_auth,
    cohere,
    gemini,
    ollama,
    vertex,
)
from gateway.providers.base import Provider
from gateway.providers.openai_compatible import OPENAI_COMPATIBLE_BASES, OpenAICompatibleProvider

Factory = Callable[[httpx.AsyncClient], Provider]
# What a provider can tell of a deployment's settings (and the environment) at start-up,
# without the network: the reason its requests would be refused, or None.
ConfigCheck = Callable[[Deployment, Mapping[str, str]], str | None]


def _openai_compatible(name: str, base: str | None) -> Factory:
    def build(http: httpx.AsyncClient) -> Provider:
        return OpenAICompatibleProvider(http=http, name=name, default_base=base)

    return build


def default_factories() -> dict[str, Factory]:
    factories: dict[str, Factory] = {
        name: _openai_compatible(name, base) for name, base in OPENAI_COMPATIBLE_BASES.items()
    }
    factories.update(
        {
            "anthropic": anthropic.build,
            "gemini": gemini.build,
            "azure": azure.build,
            "bedrock": bedrock.build,
            "ollama": ollama.factory("ollama"),
            "ollama_chat": ollama.factory("ollama_chat"),
            "vertex_ai": vertex.build,
            "cohere": cohere.build,
            "cohere_chat": cohere.build,
        }
    )
    return factories


def default_config_checks() -> dict[str, ConfigCheck]:
    return {"bedrock": bedrock_auth.config_problem}


@dataclass
class ProviderRegistry:
    """Provider instances, built once per app around the one shared HTTP client."""

    http: httpx.AsyncClient
    factories: Mapping[str, Factory] = field(default_factory=default_factories)
    config_checks: Mapping[str, ConfigCheck] = field(default_factory=default_config_checks)
    _instances: dict[str, Provider] = field(default_factory=dict)

    def known(self, name: str) -> bool:
        return name in self.factories

    def config_problem(
        self, deployment: Deployment, environ: Mapping[str, str] = os.environ
    ) -> str | None:
        check = self.config_checks.get(deployment.provider)
        return check(deployment, environ) if check is not None else None

    def get(self, name: str) -> Provider:
        instance = self._instances.get(name)
        if instance is None:
            factory = self.factories.get(name)
            if factory is None:
                raise BadRequestError(
                    f"unsupported provider {name!r}; supported: {', '.join(sorted(self.factories))}",
                    code="unsupported_provider",
                )
            instance = factory(self.http)
            self._instances[name] = instance
        return instance
