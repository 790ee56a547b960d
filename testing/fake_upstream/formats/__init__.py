"""Wire formats. Each module turns its requests into neutral `Prompt`s and renders `Reply`s.

A format contributes routes (path without the `/v1` prefix, method, handler) and a renderer per
request. The app builds its route table from `FORMATS`; adding Anthropic, Gemini or Ollama is a
new module here plus one entry in that tuple.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..exchange import Exchange
from ..reply import Reply, ReplyError
from ..state import UpstreamState

Handler = Callable[[UpstreamState, Exchange, Any], Awaitable[None]]
ErrorBody = Callable[[ReplyError], bytes]
KeyFrom = Callable[[Exchange], str | None]


def bearer_key(exchange: Exchange) -> str | None:
    """OpenAI's `Authorization: Bearer KEY`; other formats pass their own (`x-api-key`, ...)."""
    value = exchange.header(b"authorization")
    if value is None or not value.startswith(b"Bearer "):
        return None
    return value[len(b"Bearer ") :].decode("latin-1")


@dataclass(frozen=True, slots=True)
class Route:
    """`path` may hold `{name}` segments (Azure deployments, Gemini models); they reach the
    handler as `exchange.path_params`."""

    method: str
    path: str
    handler: Handler
    error_body: ErrorBody  # how this route's format writes errors (auth failures included)
    key_from: KeyFrom = bearer_key
    authenticated: bool = True
    recorded: bool = True


class Renderer(Protocol):
    """Renders replies in one wire format, for one request (it knows the id, model, options)."""

    def body(self, reply: Reply) -> bytes: ...

    def frames(self, reply: Reply) -> Iterator[bytes]:
        """The whole stream, terminator included; each frame is sent (and flushed) on its own."""
        ...

    def error_body(self, error: ReplyError) -> bytes: ...

    def malformed_body(self) -> bytes: ...

    def malformed_frame(self) -> bytes: ...
