"""The provider contract: every upstream speaks OpenAI's shapes through these three calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from common.netguard import AddressPolicy
from gateway.deployments import Deployment

JSON = dict[str, Any]


@dataclass(slots=True)
class ProviderCall:
    """One upstream call: an OpenAI-shaped body bound to a deployment."""

    deployment: Deployment
    body: JSON
    timeout: float
    request_id: str
    drop_params: bool = False
    image_fetch: AddressPolicy = field(default_factory=AddressPolicy)  # SSRF allowlist


class Provider(Protocol):
    async def chat(self, call: ProviderCall) -> JSON:
        """Return an OpenAI `chat.completion` object."""

    def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        """Yield OpenAI `chat.completion.chunk` objects as the upstream produces them."""

    async def embed(self, call: ProviderCall) -> JSON:
        """Return an OpenAI embeddings `list` object."""


class TextCompletionProvider(Protocol):
    """Optional: providers with a native legacy `/completions` endpoint."""

    async def complete(self, call: ProviderCall) -> JSON: ...

    def complete_stream(self, call: ProviderCall) -> AsyncIterator[JSON]: ...


class ProviderFactory(Protocol):
    def __call__(self, http: httpx.AsyncClient) -> Provider: ...
