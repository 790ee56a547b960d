"""`/chat/completions`, `/completions` and `/embeddings`: authenticate, route, call, relay."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.completions_adapter import (
    chat_body_from_completion,
    completion_chunks,
    completion_from_chat,
)
from gateway.context import RequestContext, current_context
from gateway.deployments import Deployment
from gateway.errors import BadRequestError
from gateway.http_io import SSE_HEADERS, JSONResponse, read_json_object, require_model, sse_body
from gateway.providers.base import JSON, Provider, ProviderCall
from gateway.providers.errors import malformed_response
from gateway.state import GatewayState

Opener = Callable[[Provider, ProviderCall], AsyncIterator[JSON]]
Caller = Callable[[Provider, ProviderCall], Awaitable[JSON]]


def _context() -> RequestContext:
    ctx = current_context()
    if ctx is None:  # handlers always run inside RequestContextMiddleware
        raise RuntimeError("request context missing")
    return ctx


def _validate_messages(body: JSON) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequestError(
            "Missing required parameter: 'messages' (a non-empty list).",
            param="messages",
            code="missing_required_parameter",
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadRequestError(
                f"messages[{i}] must be an object with a 'role'.", param=f"messages[{i}]"
            )


def _wants_usage(body: JSON) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


class InferenceRoutes:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def _call(self, deployment: Deployment, body: JSON, request_id: str) -> ProviderCall:
        timeout = self.state.timeout_for(
            deployment.stream_timeout if body.get("stream") else deployment.timeout
        )
        return ProviderCall(
            deployment=deployment,
            body=body,
            timeout=timeout,
            request_id=request_id,
            drop_params=self.state.drop_params,
        )

    async def _prepare(self, request: Request) -> tuple[JSON, str, RequestContext]:
        principal = await self.state.authenticator.authenticate(request.headers)
        body = await read_json_object(request, self.state.max_body_bytes)
        model = require_model(body)
        ctx = _context()
        ctx.key_alias = principal.key_alias
        ctx.model_group = model
        self.state.groups.get(model)  # unknown model -> 400 before any work
        return body, model, ctx

    async def _complete(self, model: str, body: JSON, ctx: RequestContext, caller: Caller) -> JSON:
        async def attempt(deployment: Deployment) -> JSON:
            provider = self.state.providers.get(deployment.provider)
            ctx.deployment_id, ctx.provider = deployment.id, deployment.provider
            started = time.perf_counter()
            try:
                return await caller(provider, self._call(deployment, body, ctx.request_id))
            finally:
                ctx.upstream_seconds += time.perf_counter() - started

        result = await self.state.router.run(model, attempt)
        ctx.record_usage(result.get("usage"))
        return result

    async def _open_stream(
        self, model: str, body: JSON, ctx: RequestContext, opener: Opener
    ) -> AsyncGenerator[JSON, None]:
        """Open a stream and wait for its first chunk, so failures before it are plain errors."""
        upstream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}

        async def attempt(deployment: Deployment) -> tuple[JSON, AsyncGenerator[JSON, None]]:
            provider = self.state.providers.get(deployment.provider)
            ctx.deployment_id, ctx.provider = deployment.id, deployment.provider
            chunks = opener(provider, self._call(deployment, upstream_body, ctx.request_id))
            started = time.perf_counter()
            try:
                first = await anext(aiter(chunks))
            except StopAsyncIteration:
                raise malformed_response(deployment.provider, "empty stream") from None
            finally:
                ctx.upstream_seconds += time.perf_counter() - started
            return first, _relay(first, chunks, ctx, include_usage=_wants_usage(body))

        _first, rest = await self.state.router.run(model, attempt)
        return rest

    async def chat(self, request: Request) -> Response:
        body, model, ctx = await self._prepare(request)
        _validate_messages(body)
        if body.get("stream"):
            ctx.stream = True
            rest = await self._open_stream(model, body, ctx, lambda p, c: p.stream(c))
            return _sse(rest)
        result = await self._complete(model, body, ctx, lambda p, c: p.chat(c))
        return JSONResponse(result)

    async def completions(self, request: Request) -> Response:
        body, model, ctx = await self._prepare(request)
        if "prompt" not in body:
            raise BadRequestError("Missing required parameter: 'prompt'.", param="prompt")
        if body.get("stream"):
            ctx.stream = True

            def open_completion(provider: Provider, call: ProviderCall) -> AsyncIterator[JSON]:
                native = getattr(provider, "complete_stream", None)
                if native is not None:
                    return native(call)  # type: ignore[no-any-return]
                call.body = chat_body_from_completion(call.body)
                return completion_chunks(provider.stream(call))

            rest = await self._open_stream(model, body, ctx, open_completion)
            return _sse(rest)

        async def complete(provider: Provider, call: ProviderCall) -> JSON:
            native = getattr(provider, "complete", None)
            if native is not None:
                return await native(call)  # type: ignore[no-any-return]
            call.body = chat_body_from_completion(call.body)
            return completion_from_chat(await provider.chat(call))

        return JSONResponse(await self._complete(model, body, ctx, complete))

    async def embeddings(self, request: Request) -> Response:
        body, model, ctx = await self._prepare(request)
        if body.get("input") in (None, "", []):
            raise BadRequestError("Missing required parameter: 'input'.", param="input")
        result = await self._complete(model, body, ctx, lambda p, c: p.embed(c))
        return JSONResponse(result)


async def _relay(
    first: JSON, rest: AsyncIterator[JSON], ctx: RequestContext, *, include_usage: bool
) -> AsyncGenerator[JSON, None]:
    """Yield chunks to the client; usage is always requested upstream (for spend) but only
    relayed when the client asked for it."""
    try:
        chunk: JSON | None = first
        while chunk is not None:
            usage = chunk.get("usage")
            if usage is not None:
                ctx.record_usage(usage)
                if not include_usage:
                    if not chunk.get("choices"):
                        chunk = await anext(rest, None)
                        continue
                    chunk = {k: v for k, v in chunk.items() if k != "usage"}
            yield chunk
            chunk = await anext(rest, None)
    finally:
        closer: Any = getattr(rest, "aclose", None)
        if closer is not None:
            await closer()


def _sse(chunks: AsyncGenerator[JSON, None]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        try:
            first = await anext(chunks, None)
            if first is None:
                return
            async for event in sse_body(first, chunks):
                yield event
        finally:
            await chunks.aclose()

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


def routes(state: GatewayState) -> list[Route]:
    handlers = InferenceRoutes(state)
    table: list[Route] = []
    for prefix in ("/v1", ""):
        table += [
            Route(f"{prefix}/chat/completions", handlers.chat, methods=["POST"]),
            Route(f"{prefix}/completions", handlers.completions, methods=["POST"]),
            Route(f"{prefix}/embeddings", handlers.embeddings, methods=["POST"]),
        ]
    return table
