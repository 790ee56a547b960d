"""OpenAI and every OpenAI-compatible server: the request passes through nearly unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import orjson

from gateway.errors import BadRequestError
from gateway.providers.base import JSON, ProviderCall
from gateway.providers.errors import error_from_status, error_from_transport, malformed_response
from gateway.providers.media import Answer, AudioForm, BinaryStream
from gateway.providers.params import upstream_body
from gateway.providers.sse import server_events
from gateway.providers.transport import Upstream
from gateway.upstream_http import post_bytes, stream_post

SSE_DONE = "[DONE]"


@dataclass(frozen=True)
class OpenAICompatibleProvider:
    """`name` is the config prefix; `default_base` is used when a deployment has no api_base."""

    http: httpx.AsyncClient
    name: str
    default_base: str | None
    # Parsed upstream URLs by (base, path): parsing a URL string was 8% of the gateway's CPU
    # per request. Bounded by the number of configured api_bases.
    _urls: dict[tuple[str, str], tuple[httpx.URL, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _url(self, call: ProviderCall, path: str) -> httpx.URL:
        return self._url_text(call, path)[0]

    def _url_text(self, call: ProviderCall, path: str) -> tuple[httpx.URL, str]:
        """The URL parsed (for httpx) and as httpx renders it (for the direct path, which
        sends a string as it is; `str(httpx.URL)` costs 3 us a call)."""
        base = call.deployment.api_base or self.default_base
        if base is None:
            raise BadRequestError(
                f"deployment {call.deployment.model_name!r} ({self.name}/{call.deployment.model}) "
                "needs litellm_params.api_base",
                code="missing_api_base",
            )
        found = self._urls.get((base, path))
        if found is None:
            url = httpx.URL(f"{base}{path}")
            found = self._urls[(base, path)] = (url, str(url))
        return found

    def _headers(self, call: ProviderCall) -> dict[str, str]:
        deployment = call.deployment
        headers = {"content-type": "application/json", "x-request-id": call.request_id}
        if deployment.api_key:
            headers["authorization"] = f"Bearer {deployment.api_key}"
        if deployment.organization:
            headers["openai-organization"] = deployment.organization
        headers.update(deployment.extra_headers)
        return headers

    async def _post_json(self, call: ProviderCall, path: str, body: JSON) -> JSON:
        _, url = self._url_text(call, path)
        try:
            response = await post_bytes(
                self.http, url, orjson.dumps(body), self._headers(call), call.timeout
            )
        except httpx.HTTPError as exc:
            raise error_from_transport(self.name, exc) from exc
        if response.status_code >= 400:
            raise error_from_status(
                self.name, response.status_code, response.content, response.headers
            )
        try:
            parsed = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise malformed_response(self.name, "body is not JSON") from exc
        if not isinstance(parsed, dict):
            raise malformed_response(self.name, "body is not a JSON object")
        return parsed

    async def _stream_json(self, call: ProviderCall, path: str, body: JSON) -> AsyncIterator[JSON]:
        _, url = self._url_text(call, path)
        try:
            async with stream_post(
                self.http, url, orjson.dumps(body), self._headers(call), call.timeout
            ) as response:
                if response.status_code >= 400:
                    content = await response.aread()
                    raise error_from_status(
                        self.name, response.status_code, content, response.headers
                    )
                # one event per blank line; a `data:` field split over lines is joined
                async for event in server_events(response.aiter_lines()):
                    data = event.data.strip()
                    if data == SSE_DONE:
                        return
                    try:
                        chunk = orjson.loads(data)
                    except orjson.JSONDecodeError as exc:
                        raise malformed_response(self.name, "stream event is not JSON") from exc
                    if isinstance(chunk, dict) and isinstance(chunk.get("error"), dict):
                        raise error_from_status(self.name, 500, data.encode(), {})
                    if isinstance(chunk, dict):
                        yield chunk
        except httpx.HTTPError as exc:
            raise error_from_transport(self.name, exc) from exc
        raise malformed_response(self.name, "stream ended without [DONE]")

    async def chat(self, call: ProviderCall) -> JSON:
        return await self._post_json(call, "/chat/completions", upstream_body(call))

    def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        body = upstream_body(call)
        body["stream"] = True
        return self._stream_json(call, "/chat/completions", body)

    async def embed(self, call: ProviderCall) -> JSON:
        return await self._post_json(call, "/embeddings", upstream_body(call))

    async def complete(self, call: ProviderCall) -> JSON:
        return await self._post_json(call, "/completions", upstream_body(call))

    def complete_stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        body = upstream_body(call)
        body["stream"] = True
        return self._stream_json(call, "/completions", body)

    async def generate_image(self, call: ProviderCall) -> JSON:
        return await self._post_json(call, "/images/generations", upstream_body(call))

    async def moderate(self, call: ProviderCall) -> JSON:
        return await self._post_json(call, "/moderations", upstream_body(call))

    async def rerank(self, call: ProviderCall) -> JSON:
        """vLLM, Jina, Infinity and other OpenAI-compatible servers serve `/rerank`."""
        return await self._post_json(call, "/rerank", upstream_body(call))

    async def speech(self, call: ProviderCall) -> BinaryStream:
        upstream = Upstream(self.http, self.name)
        url = self._url(call, "/audio/speech")
        return await upstream.open_bytes(
            url, upstream_body(call), self._headers(call), call.timeout
        )

    async def transcribe(self, call: ProviderCall, form: AudioForm) -> Answer:
        upstream = Upstream(self.http, self.name)
        url = self._url(call, f"/audio/{form.task}")
        return await upstream.post_form(url, form, self._headers(call), call.timeout)


# Prefixes that only differ by their default base URL.
OPENAI_COMPATIBLE_BASES: dict[str, str | None] = {
    "openai": "https://api.openai.com/v1",
    "custom_openai": None,
    "text-completion-openai": "https://api.openai.com/v1",
    "hosted_vllm": None,
    "vllm": None,
    "openrouter": "https://openrouter.ai/api/v1",
    "groq": "https://api.groq.com/openai/v1",
    "together_ai": "https://api.together.xyz/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "mistral": "https://api.mistral.ai/v1",
    "lm_studio": "http://127.0.0.1:1234/v1",
    "fireworks_ai": "https://api.fireworks.ai/inference/v1",
    "perplexity": "https://api.perplexity.ai",
    "xai": "https://api.x.ai/v1",
}
