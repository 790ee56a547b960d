"""The OpenAI API: chat completions, completions, embeddings and the model list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from .. import embeddings, errors
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, Usage, estimate_tokens
from ..state import UpstreamState
from . import Route
from .openai_wire import (
    ChatRenderer,
    CompletionRenderer,
    error_body,
    parse_chat,
    parse_completion,
)


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

    def __init__(self, model: str, texts: list[str], dimensions: int, encoding: str) -> None:
        self._model = model
        self._texts = texts
        self._dimensions = dimensions
        self._encoding = encoding

    def body(self, reply: Reply) -> bytes:
        data = []
        for index, text in enumerate(self._texts):
            values = embeddings.vector(text, self._dimensions)
            encoded: Any = embeddings.as_base64(values) if self._encoding == "base64" else values
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


def _embedding_texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(item, str) for item in value):
        return list(value)
    if all(isinstance(item, int) for item in value):  # one token array
        return [" ".join(map(str, value))]
    if all(isinstance(item, list) and all(isinstance(t, int) for t in item) for item in value):
        return [" ".join(map(str, item)) for item in value]
    return None


def _parse_embeddings(body: Any) -> tuple[str, list[str], int, str] | ReplyError:
    if not isinstance(body, dict):
        return errors.invalid_json()
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return errors.missing_parameter("model")
    if "input" not in body:
        return errors.missing_parameter("input")
    texts = _embedding_texts(body["input"])
    if texts is None:
        return errors.invalid_parameter(
            "input", "Invalid 'input': expected a string, an array of strings, or token arrays."
        )
    dimensions = body.get("dimensions", embeddings.DEFAULT_DIMENSIONS)
    if (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= embeddings.MAX_DIMENSIONS
    ):
        return errors.invalid_parameter(
            "dimensions",
            f"Invalid 'dimensions': expected an integer from 1 to {embeddings.MAX_DIMENSIONS}.",
        )
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        return errors.invalid_parameter(
            "encoding_format", "Invalid 'encoding_format': expected 'float' or 'base64'."
        )
    return model, texts, dimensions, encoding


async def create_embeddings(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    parsed = _parse_embeddings(body)
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
    renderer = _EmbeddingRenderer(model, texts, dimensions, encoding)
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
