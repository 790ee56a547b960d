"""`anthropic/`: Claude through the Messages API (`x-api-key`, `anthropic-version`).

Besides the OpenAI-shaped `chat`/`stream`, the provider offers `messages`/`messages_stream`,
which the gateway's own `/v1/messages` route uses to pass Anthropic requests straight through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway import errors
from gateway.providers.anthropic_request import messages_request
from gateway.providers.anthropic_response import chat_completion
from gateway.providers.anthropic_stream import AnthropicChunks
from gateway.providers.base import JSON, ProviderCall, as_json
from gateway.providers.errors import malformed_response, upstream_shape
from gateway.providers.params import upstream_chat_request
from gateway.providers.sse import server_events
from gateway.providers.transport import Upstream

NAME = "anthropic"
DEFAULT_BASE = "https://api.anthropic.com"
API_VERSION = "2023-06-01"

_BY_TYPE: dict[str, type[errors.GatewayError]] = {
    "invalid_request_error": errors.BadRequestError,
    "authentication_error": errors.AuthenticationError,
    "permission_error": errors.PermissionDeniedError,
    "not_found_error": errors.NotFoundError,
    "request_too_large": errors.RequestTooLargeError,
    "rate_limit_error": errors.RateLimitError,
    "api_error": errors.UpstreamServerError,
    "overloaded_error": errors.ServiceUnavailableError,
    "timeout_error": errors.RequestTimeoutError,
}

# Anthropic has no error type for an over-long prompt: it answers `invalid_request_error` with
# the documented message "prompt is too long: N tokens > M maximum". This one phrase, at the
# start of the message and only for that type, is how context-window overflow is recognised.
_PROMPT_TOO_LONG = "prompt is too long"


def classify(status: int, detail: Mapping[str, Any]) -> type[errors.GatewayError] | None:
    kind = detail.get("type")
    if kind == "invalid_request_error" and str(detail.get("message", "")).startswith(
        _PROMPT_TOO_LONG
    ):
        return errors.ContextWindowExceededError
    if status == 529:
        return errors.ServiceUnavailableError
    return _BY_TYPE.get(kind) if isinstance(kind, str) else None


def messages_url(base: str) -> str:
    if base.endswith("/v1/messages"):
        return base
    if base.endswith("/v1"):
        return f"{base}/messages"
    return f"{base}/v1/messages"


@dataclass(frozen=True)
class AnthropicProvider:
    http: httpx.AsyncClient

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, NAME, classify)

    def _headers(self, call: ProviderCall, beta: str | None = None) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "anthropic-version": API_VERSION,
            "x-request-id": call.request_id,
        }
        if call.deployment.api_key:
            headers["x-api-key"] = call.deployment.api_key
        if beta:
            headers["anthropic-beta"] = beta
        headers.update(call.deployment.extra_headers)
        return headers

    def _url(self, call: ProviderCall) -> str:
        return messages_url(call.deployment.api_base or DEFAULT_BASE)

    def _request(self, call: ProviderCall) -> JSON:
        return messages_request(
            upstream_chat_request(call), call.deployment.model, drop_params=call.drop_params
        )

    async def chat(self, call: ProviderCall) -> JSON:
        message = await self.messages(call, self._request(call))
        with upstream_shape(NAME):
            return as_json(chat_completion(message, json_mode=json_mode(call.body)))

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        body = {**self._request(call), "stream": True}
        chunks = AnthropicChunks(call.deployment.model, json_mode=json_mode(call.body))
        async for event in self.messages_stream(call, body):
            with upstream_shape(NAME):
                translated = [as_json(chunk) for chunk in chunks.feed(event)]
            for translated_chunk in translated:
                yield translated_chunk
        if not chunks.finished:
            raise malformed_response(NAME, "stream ended without message_stop")

    async def embed(self, call: ProviderCall) -> JSON:
        raise errors.BadRequestError(
            "anthropic has no embeddings API", code="unsupported_operation"
        )

    async def messages(self, call: ProviderCall, body: JSON, beta: str | None = None) -> JSON:
        """POST an Anthropic-shaped body and return Anthropic's Message unchanged. `beta` is
        the client's `anthropic-beta` header, forwarded so beta features keep working."""
        return await self.upstream.post_json(
            self._url(call), body, self._headers(call, beta), call.timeout
        )

    async def messages_stream(
        self, call: ProviderCall, body: JSON, beta: str | None = None
    ) -> AsyncIterator[JSON]:
        """Anthropic's stream events as dicts (each carries its `type`); errors raise."""
        upstream = self.upstream
        headers = self._headers(call, beta)
        lines = upstream.stream_lines(self._url(call), body, headers, call.timeout)
        async for event in stream_events(upstream, lines):
            yield event


async def stream_events(upstream: Upstream, lines: AsyncIterator[str]) -> AsyncIterator[JSON]:
    """A Messages stream body as event dicts, pings skipped and `error` events raised; shared
    with Claude on `vertex_ai/`."""
    async for event in server_events(lines):
        if event.event == "ping":
            continue
        parsed = upstream.parse_object(event.data)
        if parsed.get("type") == "error":
            raise upstream.stream_error(_stream_error_status(parsed), event.data.encode())
        yield parsed


def json_mode(body: JSON) -> bool:
    response_format = body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") in (
        "json_object",
        "json_schema",
    )


# An error event mid-stream has no HTTP status of its own; `classify` reads its type, and this
# status only matters for types it does not know.
_STATUS_BY_TYPE = {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500}


def _stream_error_status(event: JSON) -> int:
    error = event.get("error")
    kind = error.get("type") if isinstance(error, dict) else None
    return _STATUS_BY_TYPE.get(str(kind), 500)


def build(http: httpx.AsyncClient) -> AnthropicProvider:
    return AnthropicProvider(http)
