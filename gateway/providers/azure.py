"""`azure/`: Azure OpenAI. OpenAI's bodies, but deployment URLs
(`/openai/deployments/{deployment}/...?api-version=...`) and an `api-key` header.

Azure's streams open with a chunk that has no choices (the prompt's content-filter results);
it is dropped so clients see the stream OpenAI would send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway import errors
from gateway.providers.base import JSON, ProviderCall
from gateway.providers.errors import malformed_response
from gateway.providers.media import Answer, AudioForm, BinaryStream
from gateway.providers.params import upstream_body
from gateway.providers.sse import server_events
from gateway.providers.transport import Upstream

NAME = "azure"
DEFAULT_API_VERSION = "2024-10-21"
SSE_DONE = "[DONE]"


def classify(status: int, detail: Mapping[str, Any]) -> type[errors.GatewayError] | None:
    inner = detail.get("innererror")
    if isinstance(inner, dict) and inner.get("code") == "ResponsibleAIPolicyViolation":
        return errors.ContentPolicyViolationError
    return None  # OpenAI's codes (context_length_exceeded, content_filter) cover the rest


@dataclass(frozen=True)
class AzureProvider:
    http: httpx.AsyncClient

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, NAME, classify)

    def _url(self, call: ProviderCall, operation: str) -> str:
        base = call.deployment.api_base
        if base is None:
            raise errors.BadRequestError(
                f"deployment {call.deployment.model_name!r} (azure/{call.deployment.model}) "
                "needs litellm_params.api_base (https://<resource>.openai.azure.com)",
                code="missing_api_base",
            )
        version = call.deployment.api_version or DEFAULT_API_VERSION
        return (
            f"{base}/openai/deployments/{call.deployment.model}/{operation}?api-version={version}"
        )

    def _headers(self, call: ProviderCall) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-request-id": call.request_id}
        if call.deployment.api_key:
            headers["api-key"] = call.deployment.api_key
        headers.update(call.deployment.extra_headers)
        return headers

    async def chat(self, call: ProviderCall) -> JSON:
        return await self.upstream.post_json(
            self._url(call, "chat/completions"),
            upstream_body(call),
            self._headers(call),
            call.timeout,
        )

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        body = {**upstream_body(call), "stream": True}
        upstream = self.upstream
        lines = upstream.stream_lines(
            self._url(call, "chat/completions"), body, self._headers(call), call.timeout
        )
        async for event in server_events(lines):
            data = event.data.strip()
            if data == SSE_DONE:
                return
            chunk = upstream.parse_object(data)
            if isinstance(chunk.get("error"), dict):
                raise upstream.stream_error(500, data.encode())
            if not chunk.get("choices") and chunk.get("usage") is None:
                continue  # prompt_filter_results only
            yield chunk
        raise malformed_response(NAME, "stream ended without [DONE]")

    async def embed(self, call: ProviderCall) -> JSON:
        return await self.upstream.post_json(
            self._url(call, "embeddings"), upstream_body(call), self._headers(call), call.timeout
        )

    async def generate_image(self, call: ProviderCall) -> JSON:
        return await self.upstream.post_json(
            self._url(call, "images/generations"),
            upstream_body(call),
            self._headers(call),
            call.timeout,
        )

    async def speech(self, call: ProviderCall) -> BinaryStream:
        return await self.upstream.open_bytes(
            self._url(call, "audio/speech"), upstream_body(call), self._headers(call), call.timeout
        )

    async def transcribe(self, call: ProviderCall, form: AudioForm) -> Answer:
        return await self.upstream.post_form(
            self._url(call, f"audio/{form.task}"), form, self._headers(call), call.timeout
        )


def build(http: httpx.AsyncClient) -> AzureProvider:
    return AzureProvider(http)
