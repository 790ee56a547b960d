"""`POST /v1/messages` and `/v1/messages/count_tokens`: the Anthropic Messages API in front of
every model in `model_list`.

The request is translated to OpenAI's shape once, so hooks, routing and fallbacks see what
they see for `/chat/completions`. A deployment on `anthropic/` gets the client's own Anthropic
body (no double translation); any other provider gets the OpenAI body, and its answer is
translated back. Errors are written in Anthropic's error shape, on the stream too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.anthropic_api.compat import (
    check_untranslated,
    normalize,
    prepare_for_translation,
    untranslated_fields,
)
from gateway.anthropic_api.errors import anthropic_error
from gateway.anthropic_api.request import DEFAULT_MAX_TOKENS, chat_request, untranslatable
from gateway.anthropic_api.response import anthropic_message
from gateway.anthropic_api.stream import AnthropicEvents
from gateway.context import current_context
from gateway.errors import BadRequestError, GatewayError
from gateway.hooks import CallRecord
from gateway.http_io import SSE_HEADERS, JSONResponse, read_json_object, require_model
from gateway.providers.anthropic import AnthropicProvider
from gateway.providers.anthropic_response import token_usage
from gateway.providers.base import JSON, Provider, ProviderCall
from gateway.routes.inference import InferenceCalls, Opener
from gateway.state import GatewayState
from gateway.token_counting.counter import TokenCounter


def error_response(error: GatewayError) -> JSONResponse:
    ctx = current_context()
    if ctx is not None:
        ctx.error = f"{type(error).__name__}: {error.message}"
    return JSONResponse(
        anthropic_error(error), status_code=error.status_code, headers=error.headers or None
    )


def _event(payload: JSON) -> bytes:
    return (
        b"event: " + str(payload["type"]).encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"
    )


class MessagesRoutes:
    def __init__(self, calls: InferenceCalls) -> None:
        self.calls = calls
        self.counter = TokenCounter(calls.state)

    async def messages(self, request: Request) -> Response:
        try:
            return await self._messages(request)
        except GatewayError as exc:
            return error_response(exc)

    async def count_tokens(self, request: Request) -> Response:
        """Anthropic's count where the model is on anthropic/, Gemini's on gemini/, else
        tiktoken or an estimate; `x-toolrelay-token-count` says which, and an estimate is
        marked in the body too."""
        try:
            state = self.calls.state
            await state.authenticator.authenticate(request.headers)
            native = normalize(await read_json_object(request, state.max_body_bytes))
            state.groups.get(require_model(native))
            chat_request(prepare_for_translation(native))  # the same validation as /v1/messages
            counted = await self.counter.for_messages(native, request.headers.get("anthropic-beta"))
        except GatewayError as exc:
            return error_response(exc)
        body: JSON = {"input_tokens": counted.total}
        if counted.estimated:
            body["estimated"] = True
        return JSONResponse(body, headers={"x-toolrelay-token-count": counted.method})

    async def _messages(self, request: Request) -> Response:
        state = self.calls.state
        principal = await state.authenticator.authenticate(request.headers)
        native = normalize(await read_json_object(request, state.max_body_bytes))
        require_model(native)
        native.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        body = chat_request(prepare_for_translation(native))
        beta = request.headers.get("anthropic-beta")
        native_only = untranslatable(native)
        untranslated = untranslated_fields(native)
        record = await self.calls.begin_with_body(principal, body, "messages")
        if record.stream:
            opener = self._opener(record, native, beta, (native_only, untranslated))
            events = await self.calls.open_stream(record, opener)
            return _sse_response(events)

        async def answer(provider: Provider, call: ProviderCall) -> JSON:
            if isinstance(provider, AnthropicProvider):
                body = _native_body(native, call, stream=False)
                message = await provider.messages(call, body, beta)
                record.record_usage(token_usage(message.get("usage")).as_openai())
                return message
            _refuse_native_only(native_only, untranslated, call)
            completion = await provider.chat(call)
            record.record_usage(completion.get("usage"))
            return anthropic_message(completion, record.model_group)

        return JSONResponse(await self.calls.complete(record, answer))

    def _opener(
        self,
        record: CallRecord,
        native: JSON,
        beta: str | None,
        refused: tuple[list[str], list[str]],
    ) -> Opener:
        native_only, untranslated = refused

        def open_events(provider: Provider, call: ProviderCall) -> AsyncIterator[JSON]:
            if isinstance(provider, AnthropicProvider):
                body = _native_body(native, call, stream=True)
                return _recorded(record, provider.messages_stream(call, body, beta))
            _refuse_native_only(native_only, untranslated, call)
            return _translated(record, provider.stream(call))

        return open_events


def _refuse_native_only(
    native_only: list[str], untranslated: list[str], call: ProviderCall
) -> None:
    check_untranslated(
        untranslated, drop_params=call.drop_params, provider=call.deployment.provider
    )
    if native_only:
        raise BadRequestError(
            f"{', '.join(native_only)} can only be sent to anthropic/ models; "
            f"{call.deployment.model_name!r} is served by {call.deployment.provider}/",
            code="unsupported_content",
        )


def _native_body(native: JSON, call: ProviderCall, *, stream: bool) -> JSON:
    body = {**native, "model": call.deployment.model}
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body


async def _recorded(record: CallRecord, events: AsyncIterator[JSON]) -> AsyncIterator[JSON]:
    """Anthropic's own events, passed through; their two usage parts are recorded."""
    usage: JSON = {}
    async for event in events:
        kind = event.get("type")
        if kind == "message_start":
            usage.update((event.get("message") or {}).get("usage") or {})
        elif kind == "message_delta":
            usage.update(event.get("usage") or {})
            record.record_usage(token_usage(usage).as_openai())
        yield event


async def _translated(record: CallRecord, chunks: AsyncIterator[JSON]) -> AsyncIterator[JSON]:
    events = AnthropicEvents(record.model_group)
    async for chunk in chunks:
        if isinstance(chunk.get("usage"), dict):
            record.record_usage(chunk["usage"])
        for event in events.feed(chunk):
            yield event
    for event in events.close():
        yield event


def _sse_response(events: AsyncGenerator[JSON, None]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        try:
            async for event in events:
                yield _event(event)
        except GatewayError as exc:
            ctx = current_context()
            if ctx is not None:
                ctx.error = f"{type(exc).__name__}: {exc.message}"
            yield _event(anthropic_error(exc))
        finally:
            await events.aclose()

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


def routes(state: GatewayState) -> list[Route]:
    handlers = MessagesRoutes(InferenceCalls(state))
    table: list[Route] = []
    for prefix in ("/v1", ""):
        table += [
            Route(f"{prefix}/messages", handlers.messages, methods=["POST"]),
            Route(f"{prefix}/messages/count_tokens", handlers.count_tokens, methods=["POST"]),
        ]
    return table
