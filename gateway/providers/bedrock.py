"""`bedrock/`: AWS Bedrock through the Converse API (`/model/{modelId}/converse` and
`/converse-stream`), which speaks one shape (text, images, tools, usage) for every model
family: Anthropic, Amazon Nova, Meta Llama, Mistral, ...

Requests are signed with SigV4 by botocore's signer, or carry a Bedrock API key
(`bedrock_auth`); streams arrive in AWS's binary event-stream framing (`bedrock_eventstream`).
`bedrock/converse/<id>` and `bedrock/invoke/<id>` (LiteLLM's route prefixes) both go to
Converse, which serves every chat model that InvokeModel serves.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from gateway import errors
from gateway.providers.base import JSON, ProviderCall, as_json
from gateway.providers.bedrock_auth import AwsAuthority, auth_headers
from gateway.providers.bedrock_eventstream import EventStreamDecoder, StreamMessage
from gateway.providers.bedrock_request import converse_request
from gateway.providers.bedrock_response import chat_completion
from gateway.providers.bedrock_stream import BedrockChunks
from gateway.providers.errors import (
    AWS_ERROR_TYPE,
    error_from_status,
    malformed_response,
    upstream_shape,
)
from gateway.providers.images import inline_remote_images
from gateway.providers.params import upstream_chat_request
from gateway.providers.transport import Upstream

NAME = "bedrock"
ROUTE_PREFIXES = ("converse/", "invoke/")
EVENT_STREAM = "application/vnd.amazon.eventstream"

# Error names: the `x-amzn-ErrorType` header of an error response (PascalCase), or the
# `:exception-type` of an exception inside a stream (camelCase; `_error_name` aligns them).
_BY_TYPE: dict[str, type[errors.GatewayError]] = {
    "ValidationException": errors.BadRequestError,
    "AccessDeniedException": errors.PermissionDeniedError,
    # A wrong secret, an unknown key id, an expired session token: the gateway's credentials
    # for this deployment are bad, which OpenAI clients know as an authentication error.
    "UnrecognizedClientException": errors.AuthenticationError,
    "InvalidSignatureException": errors.AuthenticationError,
    "IncompleteSignatureException": errors.AuthenticationError,
    "MissingAuthenticationTokenException": errors.AuthenticationError,
    "ExpiredTokenException": errors.AuthenticationError,
    "ResourceNotFoundException": errors.NotFoundError,
    "ThrottlingException": errors.RateLimitError,
    "ServiceQuotaExceededException": errors.RateLimitError,
    "ModelNotReadyException": errors.ServiceUnavailableError,
    "ModelTimeoutException": errors.RequestTimeoutError,
    "ModelErrorException": errors.BadGatewayError,
    "ModelStreamErrorException": errors.BadGatewayError,
    "InternalServerException": errors.UpstreamServerError,
    "ServiceUnavailableException": errors.ServiceUnavailableError,
}
# The status each stream exception has as an HTTP error (bedrock-runtime's service model).
_STREAM_STATUS = {
    "ValidationException": 400,
    "ThrottlingException": 429,
    "ModelStreamErrorException": 424,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
# Bedrock reports an over-long prompt as a ValidationException whose documented message is
# "Input is too long for requested model." (sometimes after "The model returned the following
# errors: "). Only that exception with that phrase is a context-window overflow.
_INPUT_TOO_LONG = "Input is too long for requested model"


def _error_name(raw: object) -> str:
    """`ThrottlingException:http://internal.amazon.com/...`, `com.amazon#ThrottlingException`
    or `throttlingException` -> `ThrottlingException`."""
    name = str(raw).split(":", 1)[0].rsplit("#", 1)[-1]
    return name[:1].upper() + name[1:]


def classify(status: int, detail: Mapping[str, Any]) -> type[errors.GatewayError] | None:
    raw = detail.get("__type")
    if raw is None:
        return None
    name = _error_name(raw)
    if name == "ValidationException" and _INPUT_TOO_LONG in str(detail.get("message", "")):
        return errors.ContextWindowExceededError
    return _BY_TYPE.get(name)


# RFC 3986 characters a path segment may hold unescaped. HTTP clients (yarl under aiohttp)
# unescape them before sending, and the signature must cover the path as it goes on the wire,
# so they are left as they are; anything else, such as the `/` of an ARN, is escaped.
_SEGMENT_SAFE = "!$&'()*+,;=:@"


def path_segment(model: str) -> str:
    return quote(model, safe=_SEGMENT_SAFE)


def model_id(model: str) -> str:
    for prefix in ROUTE_PREFIXES:
        if model.startswith(prefix):
            return model[len(prefix) :]
    return model


@dataclass(frozen=True, slots=True)
class _Prepared:
    url: str
    content: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class BedrockProvider:
    http: httpx.AsyncClient
    authority: AwsAuthority

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.http, NAME, classify)

    async def _prepare(self, call: ProviderCall, operation: str, accept: str) -> _Prepared:
        target = await self.authority.target(call.deployment)
        body = upstream_chat_request(call)
        body["messages"] = await inline_remote_images(
            self.http, body.get("messages") or [], call.timeout, call.image_fetch
        )
        request = converse_request(body, call.deployment.model, drop_params=call.drop_params)
        url = f"{target.endpoint}/model/{path_segment(model_id(call.deployment.model))}/{operation}"
        content = orjson.dumps(request)
        headers = {
            "content-type": "application/json",
            "accept": accept,
            "x-request-id": call.request_id,
            **call.deployment.extra_headers,
        }
        return _Prepared(url, content, auth_headers(target, url, content, headers))

    async def chat(self, call: ProviderCall) -> JSON:
        prepared = await self._prepare(call, "converse", "application/json")
        response = await self.upstream.post_bytes(
            prepared.url, prepared.content, prepared.headers, call.timeout
        )
        with upstream_shape(NAME):
            return as_json(
                chat_completion(response, call.deployment.model, json_mode=_json_mode(call.body))
            )

    async def stream(self, call: ProviderCall) -> AsyncIterator[JSON]:
        prepared = await self._prepare(call, "converse-stream", EVENT_STREAM)
        upstream = self.upstream
        decoder = EventStreamDecoder(NAME)
        chunks = BedrockChunks(call.deployment.model, json_mode=_json_mode(call.body))
        body = upstream.stream_bytes(prepared.url, prepared.content, prepared.headers, call.timeout)
        async with aclosing(body):  # an error mid-stream releases the connection at once
            async for data in body:
                for message in decoder.feed(data):
                    if message.message_type != "event":
                        raise _stream_error(message)
                    event = upstream.parse_object(message.payload)
                    with upstream_shape(NAME):
                        translated = [as_json(c) for c in chunks.feed(message.name, event)]
                    for chunk in translated:
                        yield chunk
        decoder.close()
        if not chunks.finished:
            raise malformed_response(NAME, "stream ended before its metadata (usage) event")

    async def embed(self, call: ProviderCall) -> JSON:
        raise errors.BadRequestError(
            "bedrock embeddings (InvokeModel) are not supported; bedrock/ serves chat through "
            "the Converse API",
            code="unsupported_operation",
        )


def _stream_error(message: StreamMessage) -> errors.GatewayError:
    """An exception or error message inside a 200 stream, mapped like an error response."""
    name = _error_name(message.name) if message.name else "InternalServerException"
    payload = message.payload
    if message.message_type == "error":
        payload = orjson.dumps({"message": message.error_message or message.name})
    status = _STREAM_STATUS.get(name, 500)
    return error_from_status(NAME, status, payload, {AWS_ERROR_TYPE: name}, classify=classify)


def _json_mode(body: JSON) -> bool:
    response_format = body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") in (
        "json_object",
        "json_schema",
    )


def build(http: httpx.AsyncClient) -> BedrockProvider:
    return BedrockProvider(http, AwsAuthority(os.environ))
