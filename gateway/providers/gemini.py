"""`gemini/`: Google AI Studio's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`,
`embedContent`/`batchEmbedContents`), authenticated with `x-goog-api-key`. Image models and
TTS models serve `/images/generations` and `/audio/speech` through `generateContent` (see
`gemini_media`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway import errors
from gateway.providers.base import JSON, ProviderCall, as_json
from gateway.providers.errors import malformed_response, upstream_shape
from gateway.providers.gemini_media import (
    image_request,
    imagen_answer,
    imagen_request,
    images_answer,
    is_imagen,
    speech_answer,
    speech_format,
    speech_request,
)
from gateway.providers.gemini_request import generate_request
from gateway.providers.gemini_response import GeminiChunks, chat_completion
from gateway.providers.images import inline_remote_images
from gateway.providers.media import BufferedAudio
from gateway.providers.openai_shapes import embedding_list, estimate_tokens
from gateway.providers.params import upstream_body, upstream_chat_request
from gateway.providers.sse import server_events
from gateway.providers.transport import Upstream

NAME = "gemini"
DEFAULT_BASE = "https://generativelanguage.googleapis.com"
API_PATH = "/v1beta"

# google.rpc status names in `error.status`.
_BY_STATUS: dict[str, type[errors.GatewayError]] = {
    "INVALID_ARGUMENT": errors.BadRequestError,
    "FAILED_PRECONDITION": errors.BadRequestError,
    "OUT_OF_RANGE": errors.BadRequestError,
    "UNAUTHENTICATED": errors.AuthenticationError,
    "PERMISSION_DENIED": errors.PermissionDeniedError,
    "NOT_FOUND": errors.NotFoundError,
    "RESOURCE_EXHAUSTED": errors.RateLimitError,
    "INTERNAL": errors.UpstreamServerError,
    "UNAVAILABLE": errors.ServiceUnavailableError,
    "DEADLINE_EXCEEDED": errors.RequestTimeoutError,
}

# Gemini reports an over-long prompt as INVALID_ARGUMENT with the documented message "The input
# token count (N) exceeds the maximum number of tokens allowed (M)." Only that status and that
# phrase mark a context-window overflow.
_TOO_MANY_TOKENS = "exceeds the maximum number of tokens allowed"


def classify(status: int, detail: Mapping[str, Any]) -> type[errors.GatewayError] | None:
    rpc_status = detail.get("status")
    reasons = {d.get("reason") for d in detail.get("details") or [] if isinstance(d, dict)}
    if "API_KEY_INVALID" in reasons:  # a bad key is INVALID_ARGUMENT with this reason
        return errors.AuthenticationError
    if rpc_status == "INVALID_ARGUMENT" and _TOO_MANY_TOKENS in str(detail.get("message", "")):
        return errors.ContextWindowExceededError
    return _BY_STATUS.get(rpc_status) if isinstance(rpc_status, str) else None


@dataclass(frozen=True)
class GeminiProvider:
    http: httpx.AsyncClient

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, NAME, classify)

    def _url(self, call: ProviderCall, method: str) -> str:
        base = call.deployment.api_base or DEFAULT_BASE
        if not base.endswith(("/v1beta", "/v1")):
            base += API_PATH
        return f"{base}/models/{call.deployment.model}:{method}"

    def _headers(self, call: ProviderCall) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-request-id": call.request_id}
        if call.deployment.api_key:
            headers["x-goog-api-key"] = call.deployment.api_key
        headers.update(call.deployment.extra_headers)
        return headers

    async def _request(self, call: ProviderCall) -> JSON:
        body = upstream_chat_request(call)
        body["messages"] = await inline_remote_images(
            self.http, body.get("messages") or [], call.timeout, call.image_fetch
        )
        return generate_request(body, drop_params=call.drop_params)

    async def chat(self, call: ProviderCall) -> JSON:
        request = await self._request(call)
        response = await self.upstream.post_json(
            self._url(call, "generateContent"), request, self._headers(call), call.timeout
        )
        with upstream_shape(NAME):
            return as_json(chat_completion(response, call.deployment.model))

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        request = await self._request(call)
        upstream = self.upstream
        url = self._url(call, "streamGenerateContent") + "?alt=sse"
        lines = upstream.stream_lines(url, request, self._headers(call), call.timeout)
        async for chunk in translate_stream(upstream, lines, call.deployment.model):
            yield chunk

    async def embed(self, call: ProviderCall) -> JSON:
        body = upstream_body(call)
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise errors.BadRequestError(
                "gemini embeddings take a string or a list of strings", param="input"
            )
        model = f"models/{call.deployment.model}"
        requests = []
        for text in texts:
            request: JSON = {"model": model, "content": {"parts": [{"text": text}]}}
            if isinstance(body.get("dimensions"), int):
                request["outputDimensionality"] = body["dimensions"]
            requests.append(request)
        response = await self.upstream.post_json(
            self._url(call, "batchEmbedContents"),
            {"requests": requests},
            self._headers(call),
            call.timeout,
        )
        vectors = [e.get("values") for e in response.get("embeddings") or []]
        if len(vectors) != len(texts) or not all(isinstance(v, list) for v in vectors):
            raise malformed_response(NAME, "embeddings do not match the inputs")
        # The API reports no token count for embeddings: estimated, for spend tracking.
        tokens = sum(estimate_tokens(t) for t in texts)
        return embedding_list(call.deployment.model, vectors, tokens)

    async def generate_image(self, call: ProviderCall) -> JSON:
        """Imagen: one `:predict` for all `n`. Gemini image models: one `generateContent` per
        image asked for, made concurrently, since they draw one image per call."""
        body = upstream_body(call)
        if is_imagen(call.deployment.model):
            response = await self.upstream.post_json(
                self._url(call, "predict"), imagen_request(body), self._headers(call), call.timeout
            )
            with upstream_shape(NAME):
                return imagen_answer(response, int(time.time()))
        request = image_request(body)
        count = body.get("n") or 1
        url, headers = self._url(call, "generateContent"), self._headers(call)
        try:
            async with asyncio.TaskGroup() as group:  # one failure cancels the rest
                tasks = [
                    group.create_task(self.upstream.post_json(url, request, headers, call.timeout))
                    for _ in range(count)
                ]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the route maps one typed error
        with upstream_shape(NAME):
            return images_answer([task.result() for task in tasks], int(time.time()))

    async def speech(self, call: ProviderCall) -> BufferedAudio:
        body = upstream_body(call)
        response_format = speech_format(body)
        request = speech_request(body, drop_params=call.drop_params)
        response = await self.upstream.post_json(
            self._url(call, "generateContent"), request, self._headers(call), call.timeout
        )
        with upstream_shape(NAME):
            spoken = speech_answer(response, response_format)
        return BufferedAudio(spoken.content_type, spoken.audio, spoken.usage)


async def translate_stream(
    upstream: Upstream, lines: AsyncIterator[str], model: str
) -> AsyncIterator[JSON]:
    """A `streamGenerateContent?alt=sse` body as OpenAI chunks; shared with `vertex_ai/`."""
    chunks = GeminiChunks(model, upstream.provider)
    received = False
    async for event in server_events(lines):
        parsed = upstream.parse_object(event.data)
        if isinstance(parsed.get("error"), dict):
            status = parsed["error"].get("code")
            raise upstream.stream_error(
                status if isinstance(status, int) else 500, event.data.encode()
            )
        received = True
        with upstream_shape(upstream.provider):
            translated = [as_json(chunk) for chunk in chunks.feed(parsed)]
        for translated_chunk in translated:
            yield translated_chunk
    if not received:
        raise malformed_response(upstream.provider, "empty stream")
    if chunks.finish is None:
        raise malformed_response(upstream.provider, "stream ended without a finishReason")
    for chunk in chunks.close():
        yield as_json(chunk)


def build(http: httpx.AsyncClient) -> GeminiProvider:
    return GeminiProvider(http)
