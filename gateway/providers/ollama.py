"""`ollama/` and `ollama_chat/`: a local Ollama server's native API (`/api/chat` with tools,
NDJSON streaming, `/api/embed`). Ollama needs no key; one configured is sent as a bearer token
(for Ollama behind an authenticating proxy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from gateway import errors
from gateway.providers.base import JSON, ProviderCall, as_json
from gateway.providers.errors import malformed_response, upstream_shape
from gateway.providers.images import inline_remote_images
from gateway.providers.ollama_translate import OllamaChunks, chat_completion, chat_request
from gateway.providers.openai_shapes import ChunkWriter, embedding_list, estimate_tokens
from gateway.providers.params import upstream_body, upstream_chat_request
from gateway.providers.transport import Upstream

DEFAULT_BASE = "http://127.0.0.1:11434"


@dataclass(frozen=True)
class OllamaProvider:
    http: httpx.AsyncClient
    name: str = "ollama"

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, self.name)  # statuses alone classify its `{"error": "..."}`

    def _url(self, call: ProviderCall, path: str) -> str:
        return f"{call.deployment.api_base or DEFAULT_BASE}{path}"

    def _headers(self, call: ProviderCall) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-request-id": call.request_id}
        if call.deployment.api_key:
            headers["authorization"] = f"Bearer {call.deployment.api_key}"
        headers.update(call.deployment.extra_headers)
        return headers

    async def _request(self, call: ProviderCall, *, stream: bool) -> JSON:
        body = upstream_chat_request(call)
        body["messages"] = await inline_remote_images(
            self.http, body.get("messages") or [], call.timeout, call.image_fetch
        )
        return chat_request(
            body, call.deployment.model, stream=stream, drop_params=call.drop_params
        )

    async def chat(self, call: ProviderCall) -> JSON:
        request = await self._request(call, stream=False)
        response = await self.upstream.post_json(
            self._url(call, "/api/chat"), request, self._headers(call), call.timeout
        )
        with upstream_shape(self.name):
            return as_json(chat_completion(response, call.deployment.model))

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        request = await self._request(call, stream=True)
        upstream = self.upstream
        chunks = OllamaChunks(ChunkWriter.start(call.deployment.model))
        lines = upstream.stream_lines(
            self._url(call, "/api/chat"), request, self._headers(call), call.timeout
        )
        async for line in lines:
            if not line.strip():
                continue
            parsed = upstream.parse_object(line)
            if "error" in parsed:
                raise upstream.stream_error(500, line.encode())
            with upstream_shape(self.name):
                translated = [as_json(chunk) for chunk in chunks.feed(parsed)]
            for translated_chunk in translated:
                yield translated_chunk
        if not chunks.done:
            raise malformed_response(self.name, "stream ended before done")

    async def embed(self, call: ProviderCall) -> JSON:
        body = upstream_body(call)
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise errors.BadRequestError(
                "ollama embeddings take a string or a list of strings", param="input"
            )
        request: JSON = {"model": call.deployment.model, "input": texts}
        if isinstance(body.get("dimensions"), int):
            request["dimensions"] = body["dimensions"]
        response = await self.upstream.post_json(
            self._url(call, "/api/embed"), request, self._headers(call), call.timeout
        )
        vectors = response.get("embeddings")
        if not isinstance(vectors, list) or len(vectors) != len(texts):
            raise malformed_response(self.name, "embeddings do not match the inputs")
        counted = response.get("prompt_eval_count")
        tokens = counted if isinstance(counted, int) else sum(estimate_tokens(t) for t in texts)
        return embedding_list(call.deployment.model, vectors, tokens)


def factory(name: str) -> Callable[[httpx.AsyncClient], OllamaProvider]:
    """`ollama` and `ollama_chat` are the same provider under two prefixes."""

    def build(http: httpx.AsyncClient) -> OllamaProvider:
        return OllamaProvider(http, name)

    return build
