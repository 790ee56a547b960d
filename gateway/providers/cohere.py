"""`cohere/` (and LiteLLM's `cohere_chat/`): Cohere's Chat v2 API (`POST /v2/chat`, SSE when
streaming), `/v2/embed` and `/v2/rerank`, authenticated with `Authorization: Bearer` and the deployment's `api_key`, else
`COHERE_API_KEY` as LiteLLM reads it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from gateway import errors
from gateway.providers.base import JSON, ProviderCall, as_json
from gateway.providers.cohere_request import chat_request
from gateway.providers.cohere_rerank import document_texts, rerank_answer, rerank_request
from gateway.providers.cohere_response import NAME, CohereChunks, chat_completion
from gateway.providers.errors import malformed_response, upstream_shape
from gateway.providers.images import inline_remote_images
from gateway.providers.openai_shapes import embedding_list, estimate_tokens
from gateway.providers.params import upstream_body, upstream_chat_request
from gateway.providers.sse import server_events
from gateway.providers.transport import Upstream

DEFAULT_BASE = "https://api.cohere.com"
KEY_ENV = "COHERE_API_KEY"


def chat_url(base: str) -> str:
    if base.endswith("/v2/chat"):
        return base
    if base.endswith("/v2"):
        return f"{base}/chat"
    return f"{base}/v2/chat"


@dataclass(frozen=True)
class CohereProvider:
    http: httpx.AsyncClient

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, NAME)

    def _headers(self, call: ProviderCall) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "x-request-id": call.request_id,
        }
        key = call.deployment.api_key or os.environ.get(KEY_ENV)
        if key:
            headers["authorization"] = f"Bearer {key}"
        headers.update(call.deployment.extra_headers)
        return headers

    def _url(self, call: ProviderCall) -> str:
        return chat_url(call.deployment.api_base or DEFAULT_BASE)

    async def _request(self, call: ProviderCall) -> JSON:
        body = upstream_chat_request(call)
        # Cohere takes data URLs; remote images are fetched here under the SSRF policy, as
        # every other provider does, so the upstream never fetches on a client's behalf.
        body["messages"] = await inline_remote_images(
            self.http, body.get("messages") or [], call.timeout, call.image_fetch
        )
        return chat_request(body, call.deployment.model, drop_params=call.drop_params)

    async def chat(self, call: ProviderCall) -> JSON:
        request = await self._request(call)
        response = await self.upstream.post_json(
            self._url(call), request, self._headers(call), call.timeout
        )
        with upstream_shape(NAME):
            return as_json(chat_completion(response, call.deployment.model))

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        request = {**await self._request(call), "stream": True}
        upstream = self.upstream
        headers = {**self._headers(call), "accept": "text/event-stream"}
        chunks = CohereChunks(call.deployment.model)
        lines = upstream.stream_lines(self._url(call), request, headers, call.timeout)
        async for event in server_events(lines):
            if event.data == "[DONE]":
                break
            parsed = upstream.parse_object(event.data)
            with upstream_shape(NAME):
                translated = [as_json(chunk) for chunk in chunks.feed(parsed)]
            for chunk in translated:
                yield chunk
        if not chunks.finished:
            raise malformed_response(NAME, "stream ended without message-end")

    async def embed(self, call: ProviderCall) -> JSON:
        """`/v2/embed` with float vectors. Cohere wants to know what the text is for;
        `input_type` (a LiteLLM parameter) says so, default `search_document`."""
        body = upstream_body(call)
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise errors.BadRequestError(
                "cohere embeddings take a string or a list of strings", param="input"
            )
        request: JSON = {
            "model": call.deployment.model,
            "texts": texts,
            "input_type": body.get("input_type") or "search_document",
            "embedding_types": ["float"],
        }
        if isinstance(body.get("dimensions"), int):
            request["output_dimension"] = body["dimensions"]
        base = call.deployment.api_base or DEFAULT_BASE
        response = await self.upstream.post_json(
            chat_url(base).removesuffix("/chat") + "/embed",
            request,
            self._headers(call),
            call.timeout,
        )
        vectors = (response.get("embeddings") or {}).get("float")
        if not isinstance(vectors, list) or len(vectors) != len(texts):
            raise malformed_response(NAME, "embeddings do not match the inputs")
        billed = (response.get("meta") or {}).get("billed_units") or {}
        tokens = billed.get("input_tokens")
        if not isinstance(tokens, int | float):
            tokens = sum(estimate_tokens(t) for t in texts)  # for spend tracking only
        return embedding_list(call.deployment.model, vectors, int(tokens))

    async def rerank(self, call: ProviderCall) -> JSON:
        """`/v2/rerank`; the answer carries Cohere's `meta.billed_units.search_units`."""
        body = upstream_body(call)
        request = rerank_request(body, drop_params=call.drop_params)
        base = call.deployment.api_base or DEFAULT_BASE
        response = await self.upstream.post_json(
            chat_url(base).removesuffix("/chat") + "/rerank",
            request,
            self._headers(call),
            call.timeout,
        )
        return rerank_answer(
            response,
            document_texts(body["documents"]),
            return_documents=body.get("return_documents") is not False,
        )


def build(http: httpx.AsyncClient) -> CohereProvider:
    return CohereProvider(http)
