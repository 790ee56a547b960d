"""Choose a provider by the `provider/` prefix of a deployment's model: a table, not a chain.

The table names every provider, so an unknown prefix is known at config load, but a
provider's module is imported when its prefix is first used: Bedrock brings botocore, Vertex
google-auth, requests and cryptography, together about 20 MB of resident memory that a
gateway without such a deployment should not hold.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.deployments import Deployment
from gateway.errors import BadRequestError
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


def _module(name: str) -> Any:
    return importlib.import_module(f"gateway.providers.{name}")


def _on_first_use(module: str, name: str | None = None) -> Factory:
    """The module's `build`, or `factory(name)` (Ollama's two prefixes), imported on call."""

    def build(http: httpx.AsyncClient) -> Provider:
        found = _module(module)
        factory: Factory = found.build if name is None else found.factory(name)
        return factory(http)

    return build


def _bedrock_config_problem(deployment: Deployment, environ: Mapping[str, str]) -> str | None:
    check: ConfigCheck = _module("bedrock_auth").config_problem
    return check(deployment, environ)


def default_factories() -> dict[str, Factory]:
    factories: dict[str, Factory] = {
        name: _openai_compatible(name, base) for name, base in OPENAI_COMPATIBLE_BASES.items()
    }
    factories.update(
        {
            "anthropic": _on_first_use("anthropic"),
            "gemini": _on_first_use("gemini"),
            "azure": _on_first_use("azure"),
            "bedrock": _on_first_use("bedrock"),
            "ollama": _on_first_use("ollama", "ollama"),
            "ollama_chat": _on_first_use("ollama", "ollama_chat"),
            "vertex_ai": _on_first_use("vertex"),
            "cohere": _on_first_use("cohere"),
            "cohere_chat": _on_first_use("cohere"),
        }
    )
    return factories


def default_config_checks() -> dict[str, ConfigCheck]:
    return {"bedrock": _bedrock_config_problem}


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
