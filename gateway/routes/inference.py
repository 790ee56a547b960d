"""`/chat/completions`, `/completions` and `/embeddings`: authenticate, check, route, call, relay."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.auth import Principal
from gateway.cache import CacheLookup, ChunkAssembler, chunks_from_completion
from gateway.cache.streaming import replay
from gateway.completions_adapter import (
    chat_body_from_completion,
    completion_chunks,
    completion_from_chat,
)
from gateway.context import RequestContext, current_context
from gateway.deployments import Deployment
from gateway.errors import BadRequestError, GatewayError
from gateway.hooks import CallRecord, CallType, RequestHook
from gateway.http_io import SSE_HEADERS, JSONResponse, read_json_object, require_model, sse_body
from gateway.providers.base import JSON, Provider, ProviderCall
from gateway.providers.client_headers import forwardable_headers, with_client_headers
from gateway.providers.errors import malformed_response
from gateway.request_checks import (
    BodyCheck,
    chat_request,
    completion_body,
    embedding_body,
    shaped_body,
)
from gateway.router import RunOptions
from gateway.state import GatewayState

Opener = Callable[[Provider, ProviderCall], AsyncIterator[JSON]]
Caller = Callable[[Provider, ProviderCall], Awaitable[JSON]]
T = TypeVar("T")


def _context() -> RequestContext:
    ctx = current_context()
    if ctx is None:  # handlers always run inside RequestContextMiddleware
        raise RuntimeError("request context missing")
    return ctx


def _wants_usage(body: JSON) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


class InferenceCalls:
    """Runs one inference request through hooks, router and provider. Also used by the
    Anthropic-compatible `/v1/messages` route, which translates around it."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state

    async def begin(self, request: Request, call_type: CallType, check: BodyCheck) -> CallRecord:
        principal = await self.state.authenticator.authenticate(request.headers)
        body = await read_json_object(request, self.state.max_body_bytes)
        return await self.begin_with_body(principal, body, call_type, check)

    async def begin_with_body(
        self,
        principal: Principal,
        body: JSON,
        call_type: CallType,
        check: BodyCheck = shaped_body,
    ) -> CallRecord:
        """Start the call's record and run the pre-call hooks, then `check` the body: the one
        place it is validated (a failure is recorded like any failed call)."""
        model = require_model(body)
        if self.state.config.file.general_settings.enforce_user_param and "user" not in body:
            raise BadRequestError(
                "'user' param not passed in: general_settings.enforce_user_param is on, so "
                "every model request must name its end user",
                param="user",
                code="missing_user",
            )
        ctx = _context()
        record = CallRecord(
            request_id=ctx.request_id,
            principal=principal,
            call_type=call_type,
            model_group=self.state.groups.group_name(model),  # an alias names its group
            body=body,
            stream=bool(body.get("stream")),
        )
        ctx.call = record  # the access log reads the call's facts from here
        self.state.groups.get(model)  # unknown model -> 400 before any work
        ran = 0
        try:
            for hook in self.state.hooks:
                await hook.pre_call(record)
                ran += 1
        except GatewayError as exc:
            await self.finish(record, exc, hooks=self.state.hooks[:ran])
            raise
        try:
            check(body)
        except GatewayError as exc:
            await self.finish(record, exc)
            raise
        return record

    async def finish(
        self, record: CallRecord, error: GatewayError | None, hooks: list[RequestHook] | None = None
    ) -> None:
        """Close the record and run post_call hooks (exactly once per begun request)."""
        record.ended_at = time.time()
        if error is not None:
            record.status = "failure"
            record.http_status = error.status_code
            record.error_type = type(error).__name__
        for hook in self.state.hooks if hooks is None else hooks:
            await hook.post_call(record)

    def _call(self, deployment: Deployment, body: JSON, request_id: str) -> ProviderCall:
        timeout = self.state.timeout_for(
            deployment.stream_timeout if body.get("stream") else deployment.timeout
        )
        if self.state.header_forwarding.applies(deployment.model_name, body.get("model")):
            forwarded = forwardable_headers(_context().client_headers)
            deployment = with_client_headers(deployment, forwarded)
        return ProviderCall(
            deployment=deployment,
            body=body,
            timeout=timeout,
            request_id=request_id,
            drop_params=self.state.drop_params,
            image_fetch=self.state.image_fetch,
        )

    def _bind(self, record: CallRecord, deployment: Deployment) -> Provider:
        record.deployment = deployment
        return self.state.providers.get(deployment.provider)

    async def complete(self, record: CallRecord, caller: Caller) -> JSON:
        """A non-streaming call; hooks' post_call runs before this returns or raises."""
        cache = await self._cache_lookup(record)
        if cache.response is not None:
            record.record_usage(cache.response.get("usage"))
            if record.capture_response:
                record.response = cache.response
            await self.finish(record, None)
            return cache.response

        async def attempt(deployment: Deployment) -> JSON:
            provider = self._bind(record, deployment)
            started = time.perf_counter()
            try:
                return await caller(
                    provider, self._call(deployment, record.body, record.request_id)
                )
            finally:
                elapsed = time.perf_counter() - started
                record.upstream_seconds += elapsed

        try:
            options = RunOptions.from_body(record.body, stream=False, call_type=record.call_type)
            result = await self.state.router.run(record.model_group, attempt, options)
        except GatewayError as exc:
            await self.finish(record, exc)
            raise
        record.record_usage(result.get("usage"))
        if record.capture_response:
            record.response = result
        await cache.store(result)
        await self.finish(record, None)
        return result

    async def route(
        self, record: CallRecord, caller: Callable[[Provider, ProviderCall], Awaitable[T]]
    ) -> T:
        """Route one call of any kind (retries, fallbacks, cooldowns), bypassing the response
        cache. A failure finishes the record; on success the caller of this method finishes
        it once the answer has been delivered (the media routes)."""

        async def attempt(deployment: Deployment) -> T:
            provider = self._bind(record, deployment)
            started = time.perf_counter()
            try:
                return await caller(
                    provider, self._call(deployment, record.body, record.request_id)
                )
            finally:
                record.upstream_seconds += time.perf_counter() - started

        try:
            options = RunOptions.from_body(
                record.body, stream=record.stream, call_type=record.call_type
            )
            return await self.state.router.run(record.model_group, attempt, options)
        except GatewayError as exc:
            await self.finish(record, exc)
            raise

    async def open_stream(self, record: CallRecord, opener: Opener) -> AsyncGenerator[JSON, None]:
        """Open a stream and wait for its first chunk, so failures before it are plain errors
        (and can be retried); post_call runs when the returned generator ends."""
        include_usage = _wants_usage(record.body)
        cache = await self._cache_lookup(record)
        if cache.response is not None:
            replayed = chunks_from_completion(cache.response)
            return self._relay(
                record, replayed[0], replay(replayed[1:]), include_usage=include_usage
            )
        upstream_body = {**record.body, "stream": True, "stream_options": {"include_usage": True}}

        async def attempt(deployment: Deployment) -> tuple[JSON, AsyncIterator[JSON]]:
            provider = self._bind(record, deployment)
            chunks = opener(provider, self._call(deployment, upstream_body, record.request_id))
            started = time.perf_counter()
            try:
                first = await anext(aiter(chunks))
            except StopAsyncIteration:
                raise malformed_response(deployment.provider, "empty stream") from None
            finally:
                elapsed = time.perf_counter() - started
                record.upstream_seconds += elapsed
            record.first_token_seconds = elapsed
            return first, chunks

        try:
            options = RunOptions.from_body(record.body, stream=True, call_type=record.call_type)
            first, rest = await self.state.router.run(record.model_group, attempt, options)
        except GatewayError as exc:
            await self.finish(record, exc)
            raise
        rest = cache.collect(first, rest)
        return self._relay(record, first, rest, include_usage=include_usage)

    async def _cache_lookup(self, record: CallRecord) -> CacheLookup:
        try:
            return await self.state.cache.lookup(record)
        except GatewayError as exc:  # bad `cache` controls
            await self.finish(record, exc)
            raise

    async def _relay(
        self, record: CallRecord, first: JSON, rest: AsyncIterator[JSON], *, include_usage: bool
    ) -> AsyncGenerator[JSON, None]:
        """Yield chunks to the client. Usage is always requested upstream (for spend) but only
        relayed when the client asked for it."""
        error: GatewayError | None = None
        answer = ChunkAssembler() if record.capture_response else None
        try:
            chunk: JSON | None = first
            while chunk is not None:
                if answer is not None:
                    answer.add(chunk)
                usage = chunk.get("usage")
                if usage is not None:
                    record.record_usage(usage)
                    if not include_usage:
                        if not chunk.get("choices"):
                            chunk = await anext(rest, None)
                            continue
                        chunk = {k: v for k, v in chunk.items() if k != "usage"}
                yield chunk
                chunk = await anext(rest, None)
        except GatewayError as exc:
            error = exc
            raise
        finally:
            closer = getattr(rest, "aclose", None)
            if closer is not None:
                await closer()
            if answer is not None:
                record.response = answer.completion()
            await self.finish(record, error)


def sse_response(chunks: AsyncGenerator[JSON, None]) -> StreamingResponse:
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


class InferenceRoutes:
    def __init__(self, calls: InferenceCalls) -> None:
        self.calls = calls

    async def chat(self, request: Request) -> Response:
        record = await self.calls.begin(request, "chat", chat_request)
        if record.stream:
            return sse_response(await self.calls.open_stream(record, lambda p, c: p.stream(c)))
        return JSONResponse(await self.calls.complete(record, lambda p, c: p.chat(c)))

    async def completions(self, request: Request) -> Response:
        record = await self.calls.begin(request, "completion", completion_body)
        if record.stream:

            def open_completion(provider: Provider, call: ProviderCall) -> AsyncIterator[JSON]:
                native = getattr(provider, "complete_stream", None)
                if native is not None:
                    return native(call)  # type: ignore[no-any-return]
                call.body = chat_body_from_completion(call.body)
                return completion_chunks(provider.stream(call))

            return sse_response(await self.calls.open_stream(record, open_completion))

        async def complete(provider: Provider, call: ProviderCall) -> JSON:
            native = getattr(provider, "complete", None)
            if native is not None:
                return await native(call)  # type: ignore[no-any-return]
            call.body = chat_body_from_completion(call.body)
            return completion_from_chat(await provider.chat(call))

        return JSONResponse(await self.calls.complete(record, complete))

    async def embeddings(self, request: Request) -> Response:
        record = await self.calls.begin(request, "embedding", embedding_body)
        return JSONResponse(await self.calls.complete(record, lambda p, c: p.embed(c)))


def routes(state: GatewayState) -> list[Route]:
    handlers = InferenceRoutes(InferenceCalls(state))
    table: list[Route] = []
    for prefix in ("/v1", ""):
        table += [
            Route(f"{prefix}/chat/completions", handlers.chat, methods=["POST"]),
            Route(f"{prefix}/completions", handlers.completions, methods=["POST"]),
            Route(f"{prefix}/embeddings", handlers.embeddings, methods=["POST"]),
        ]
    return table
