"""`vertex_ai/`: Gemini and Claude on Google Cloud's Vertex AI, with a bearer token from
google-auth (`vertex_auth`) and the project/location URL (`vertex_target`).

Gemini models speak the Gemini API's wire format (`generateContent`,
`streamGenerateContent?alt=sse`), so the `gemini_request`/`gemini_response` translators are
reused. `claude-*` models are Anthropic's Messages API behind `rawPredict`/`streamRawPredict`:
the model goes in the URL instead of the body, and `anthropic_version` in the body instead of
a header; the `anthropic_request`/`anthropic_response`/`anthropic_stream` translators are reused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from gateway import errors
from gateway.providers import anthropic, gemini
from gateway.providers.anthropic_request import messages_request
from gateway.providers.anthropic_response import chat_completion as claude_completion
from gateway.providers.anthropic_stream import AnthropicChunks
from gateway.providers.base import JSON, ProviderCall, as_json
from gateway.providers.errors import malformed_response, upstream_shape
from gateway.providers.gemini_request import generate_request
from gateway.providers.gemini_response import chat_completion as gemini_completion
from gateway.providers.images import inline_remote_images
from gateway.providers.params import upstream_chat_request
from gateway.providers.transport import Upstream
from gateway.providers.vertex_auth import Account, VertexTokens
from gateway.providers.vertex_target import VertexTarget, credential_source, resolve_target

NAME = "vertex_ai"
ANTHROPIC_VERSION = "vertex-2023-10-16"

T = TypeVar("T")


def classify(status: int, detail: Mapping[str, Any]) -> type[errors.GatewayError] | None:
    """Vertex answers with google.rpc errors (`status`); Claude's own errors keep Anthropic's
    `type`. The two fields never meet, so each hook reads its own."""
    return anthropic.classify(status, detail) or gemini.classify(status, detail)


def is_claude(model: str) -> bool:
    return model.startswith("claude")


@dataclass
class VertexProvider:
    http: httpx.AsyncClient
    tokens: VertexTokens = field(default_factory=VertexTokens)

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, NAME, classify)

    async def _route(self, call: ProviderCall) -> tuple[VertexTarget, Account, dict[str, str]]:
        account = await self.tokens.account(credential_source(call.deployment))
        target = resolve_target(call.deployment, account.project)
        token = await self.tokens.token(account)
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {token}",
            "x-request-id": call.request_id,
        }
        headers.update(call.deployment.extra_headers)
        return target, account, headers

    async def _authenticated(self, account: Account, send: Callable[[], Awaitable[T]]) -> T:
        try:
            return await send()
        except errors.AuthenticationError:
            self.tokens.forget(account)  # revoked or expired early: mint a new one next time
            raise

    async def chat(self, call: ProviderCall) -> JSON:
        if is_claude(call.deployment.model):
            return await self._claude_chat(call)
        request = await self._gemini_request(call)
        target, account, headers = await self._route(call)
        url = target.url("google", call.deployment.model, "generateContent")
        response = await self._authenticated(
            account, lambda: self.upstream.post_json(url, request, headers, call.timeout)
        )
        with upstream_shape(NAME):
            return as_json(gemini_completion(response, call.deployment.model, NAME))

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        if is_claude(call.deployment.model):
            async for chunk in self._claude_stream(call):
                yield chunk
            return
        request = await self._gemini_request(call)
        target, account, headers = await self._route(call)
        url = target.url("google", call.deployment.model, "streamGenerateContent") + "?alt=sse"
        upstream = self.upstream
        lines = upstream.stream_lines(url, request, headers, call.timeout)
        try:
            async for chunk in gemini.translate_stream(upstream, lines, call.deployment.model):
                yield chunk
        except errors.AuthenticationError:
            self.tokens.forget(account)
            raise

    async def embed(self, call: ProviderCall) -> JSON:
        raise errors.BadRequestError(
            "vertex_ai embeddings are not supported by this gateway yet",
            code="unsupported_operation",
        )

    async def _gemini_request(self, call: ProviderCall) -> JSON:
        body = upstream_chat_request(call)
        body["messages"] = await inline_remote_images(
            self.http, body.get("messages") or [], call.timeout, call.image_fetch
        )
        return generate_request(body, drop_params=call.drop_params)

    def _claude_request(self, call: ProviderCall) -> JSON:
        request = messages_request(
            upstream_chat_request(call), call.deployment.model, drop_params=call.drop_params
        )
        del request["model"]  # named by the URL; Vertex refuses it in the body
        request["anthropic_version"] = ANTHROPIC_VERSION
        return request

    async def _claude_chat(self, call: ProviderCall) -> JSON:
        request = self._claude_request(call)
        target, account, headers = await self._route(call)
        url = target.url("anthropic", call.deployment.model, "rawPredict")
        message = await self._authenticated(
            account, lambda: self.upstream.post_json(url, request, headers, call.timeout)
        )
        with upstream_shape(NAME):
            return as_json(claude_completion(message, json_mode=anthropic.json_mode(call.body)))

    async def _claude_stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        request = {**self._claude_request(call), "stream": True}
        target, account, headers = await self._route(call)
        url = target.url("anthropic", call.deployment.model, "streamRawPredict")
        upstream = self.upstream
        chunks = AnthropicChunks(call.deployment.model, json_mode=anthropic.json_mode(call.body))
        lines = upstream.stream_lines(url, request, headers, call.timeout)
        try:
            async for event in anthropic.stream_events(upstream, lines):
                with upstream_shape(NAME):
                    translated = [as_json(chunk) for chunk in chunks.feed(event)]
                for chunk in translated:
                    yield chunk
        except errors.AuthenticationError:
            self.tokens.forget(account)
            raise
        if not chunks.finished:
            raise malformed_response(NAME, "stream ended without message_stop")


def build(http: httpx.AsyncClient) -> VertexProvider:
    return VertexProvider(http)
