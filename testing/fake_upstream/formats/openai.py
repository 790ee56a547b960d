"""The OpenAI API: chat completions, completions, embeddings and the model list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from .. import embeddings
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, Usage, estimate_tokens
from ..state import UpstreamState
from . import Route
from .openai_requests import parse_chat, parse_completion, parse_embeddings
from .openai_wire import ChatRenderer, CompletionRenderer, error_body


async def _reject(exchange: Exchange, error: ReplyError) -> None:
    await exchange.respond(error.status, error_body(error), headers=error.headers)


async def chat_completions(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    prompt = parse_chat(body)
    if isinstance(prompt, ReplyError):
        await _reject(exchange, prompt)
        return
    reply = state.scenario.plan(prompt)
    renderer = ChatRenderer(
        state.ids.next("chatcmpl"), int(time.time()), prompt.model, prompt.include_usage
    )
    await deliver(exchange, reply, renderer, stream=prompt.stream)


async def completions(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    prompt = parse_completion(body)
    if isinstance(prompt, ReplyError):
        await _reject(exchange, prompt)
        return
    reply = state.scenario.plan(prompt)
    renderer = CompletionRenderer(
        state.ids.next("cmpl"), int(time.time()), prompt.model, prompt.include_usage
    )
    await deliver(exchange, reply, renderer, stream=prompt.stream)


class _EmbeddingRenderer:
    """Embeddings are never streamed; the frame methods exist to satisfy `Renderer`."""

    def __init__(
        self,
        cache: embeddings.EmbeddingCache,
        model: str,
        texts: list[str],
        dimensions: int,
        encoding: str,
    ) -> None:
        self._cache = cache
        self._model = model
        self._texts = texts
        self._dimensions = dimensions
        self._encoding = encoding

    def body(self, reply: Reply) -> bytes:
        data = []
        for index, text in enumerate(self._texts):
            encoded = self._cache.get(text, self._dimensions, self._encoding)
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(estimate_tokens(len(text)) for text in self._texts)
        return orjson.dumps(
            {
                "object": "list",
                "data": data,
                "model": self._model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    def frames(self, reply: Reply) -> Iterator[bytes]:
        yield self.body(reply)

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"object": "list", "data": [{"object": "embedding", "embedding": [0.1, '

    def malformed_frame(self) -> bytes:
        return self.malformed_body()


async def create_embeddings(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = parse_embeddings(body)
    if isinstance(parsed, ReplyError):
        await _reject(exchange, parsed)
        return
    model, texts, dimensions, encoding = parsed
    behaviour = state.scenario.behaviour(model)
    reply = Reply(
        error=behaviour.error,
        fault=behaviour.fault,
        timing=behaviour.timing,
        usage=Usage(sum(estimate_tokens(len(text)) for text in texts), 0),
    )
    renderer = _EmbeddingRenderer(state.embeddings, model, texts, dimensions, encoding)
    await deliver(exchange, reply, renderer, stream=False)


async def list_models(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    names = dict.fromkeys([*state.models, *state.scripts.models()])
    created = int(time.time())
    data = [
        {"id": name, "object": "model", "created": created, "owned_by": "fake-upstream"}
        for name in names
    ]
    await exchange.respond(200, orjson.dumps({"object": "list", "data": data}))


def routes() -> list[Route]:
    """Paths without the `/v1` prefix; the app accepts both spellings."""
    return [
        Route("POST", "/chat/completions", chat_completions, error_body),
        Route("POST", "/completions", completions, error_body),
        Route("POST", "/embeddings", create_embeddings, error_body),
        Route("GET", "/models", list_models, error_body),
    ]
