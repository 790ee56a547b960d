"""The provider contract: every upstream speaks OpenAI's shapes through these three calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import httpx

from common.chat import ChatCompletion, ChatCompletionChunk
from common.netguard import AddressPolicy
from gateway.deployments import Deployment

JSON = dict[str, Any]


def as_json(answer: ChatCompletion | ChatCompletionChunk) -> JSON:
    """Widen a translator's typed answer to the plain JSON that `Provider` returns.

    `Provider` returns JSON because OpenAI-compatible upstreams' answers are passed through
    unparsed (checking each would cost CPU on every request), so the contract cannot promise
    more. A TypedDict is a plain dict at run time: this only tells mypy to forget its keys."""
    return cast(JSON, answer)


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
