"""`POST /v1/responses`, `GET|DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`:
OpenAI's Responses API in front of every model in `model_list`.

The request becomes a chat request once (`common.responses.request`), so keys, budgets, limits,
routing, fallbacks, cache, spend and metrics see exactly what they see for
`/chat/completions`. The answer is turned back into a Response (or its stream events) and
stored (unless `store: false`) so a later `previous_response_id` continues the conversation.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from common.responses.request import (
    ResponsesBodyError,
    chat_request,
    hosted_tool_types,
    input_items,
    untranslated_fields,
)
from common.responses.response import from_completion, history_items, new_item_id, skeleton
from common.responses.stream import ResponseEvents
from gateway.anthropic_api.compat import check_untranslated
from gateway.auth import Principal
from gateway.context import current_context
from gateway.errors import BadRequestError, GatewayError, NotFoundError
from gateway.hooks import CallRecord
from gateway.http_io import SSE_HEADERS, JSONResponse, read_json_object, require_model
from gateway.limits.durations import DurationError, parse_duration
from gateway.providers.base import JSON, Provider, ProviderCall
from gateway.responses_api import passthrough
from gateway.responses_api.carry import (
    CARRIED_EVENT,
    CARRIED_RESPONSE,
    TERMINAL_EVENTS,
    adopted,
    adopted_event,
    carried_events,
    carried_response,
)
from gateway.responses_api.passthrough import takes_responses, upstream_body
from gateway.responses_api.store import DEFAULT_RETENTION, ResponseStore, StoredResponse
from gateway.routes.inference import InferenceCalls
from gateway.state import GatewayState

log = structlog.get_logger("toolrelay.gateway.responses")


def _check_hosted_tools(types: list[str], call: ProviderCall) -> None:
    """drop_params semantics for tools only OpenAI's servers run (Codex sends `web_search` in
    every request): left out with it, a 400 that says so without it."""
    if not types:
        return
    if not call.drop_params:
        raise BadRequestError(
            f"tools: {', '.join(repr(t) for t in types)} tools run on OpenAI's servers; only "
            f"openai/ and azure/ models take them, and this model is served by "
            f"{call.deployment.provider}/. Set litellm_settings.drop_params: true to leave them "
            "out (function tools work everywhere).",
            param="tools",
            code="unsupported_tool",
        )
    log.debug("hosted tools left out", types=types, provider=call.deployment.provider)


def _sse(event: JSON) -> bytes:
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class ResponsesRoutes:
    def __init__(self, calls: InferenceCalls, store: ResponseStore) -> None:
        self.calls = calls
        self.store = store

    async def create(self, request: Request) -> Response:
        state = self.calls.state
        principal = await state.authenticator.authenticate(request.headers)
        native = await read_json_object(request, state.max_body_bytes)
        model = require_model(native)
        if native.get("background"):
            raise BadRequestError(
                "background: responses run in the foreground on this gateway",
                param="background",
                code="unsupported_parameter",
            )
        if "input" not in native:
            raise BadRequestError("Missing required parameter: 'input'.", param="input")
        history = await self._history(principal, native)
        try:
            conversation = history + input_items(native["input"])
            body = chat_request(native, conversation, hosted_tools="drop")
        except ResponsesBodyError as exc:
            raise BadRequestError(exc.message, param=exc.param, code=exc.code) from None
        untranslated = untranslated_fields(native)
        hosted = hosted_tool_types(native.get("tools"))
        record = await self.calls.begin_with_body(principal, body, "responses")
        base = skeleton(native, new_item_id("resp"), model)

        def checked(call: ProviderCall) -> ProviderCall:
            check_untranslated(
                untranslated, drop_params=call.drop_params, provider=call.deployment.provider
            )
            _check_hosted_tools(hosted, call)
            return call

        http = state.http
        if record.stream:
            if any(takes_responses(d) for d in state.groups.get(model)):
                # The cache keeps chat answers; events passed through are not one.
                record.body["cache"] = {"no-cache": True, "no-store": True}

            def open_events(provider: Provider, call: ProviderCall) -> AsyncIterator[JSON]:
                if takes_responses(call.deployment):
                    body = upstream_body(native, conversation, call.deployment.model, stream=True)
                    return carried_events(passthrough.stream(http, call, body))
                return provider.stream(checked(call))

            chunks = await self.calls.open_stream(record, open_events)
            events = self._events(record, principal, native, conversation, base, chunks)
            return _sse_response(events)

        async def answer(provider: Provider, call: ProviderCall) -> JSON:
            if takes_responses(call.deployment):
                body = upstream_body(native, conversation, call.deployment.model, stream=False)
                return carried_response(await passthrough.create(http, call, body))
            return await provider.chat(checked(call))

        completion = await self.calls.complete(record, answer)
        carried = completion.get(CARRIED_RESPONSE)
        if isinstance(carried, dict):
            response = adopted(carried, base)
        else:
            response = from_completion(base, completion)
        if native.get("store", True) is not False:
            await self.store.save(principal, model, conversation, response)
        return JSONResponse(response)

    async def _history(self, principal: Principal, native: JSON) -> list[JSON]:
        previous = native.get("previous_response_id")
        if previous is None:
            return []
        if not isinstance(previous, str) or not previous:
            raise BadRequestError(
                "previous_response_id: must be a response id", param="previous_response_id"
            )
        stored = await self.store.load(principal, previous)
        if stored is None:
            raise NotFoundError(
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
            )
        return stored.input_items + history_items(stored.response.get("output") or [])

    async def _events(
        self,
        record: CallRecord,
        principal: Principal,
        native: JSON,
        conversation: list[JSON],
        base: JSON,
        chunks: AsyncGenerator[JSON, None],
    ) -> AsyncGenerator[JSON, None]:
        events = ResponseEvents(base)
        passed_through = False
        store = native.get("store", True) is not False
        try:
            async for chunk in chunks:
                carried = chunk.get(CARRIED_EVENT)
                if isinstance(carried, dict):
                    passed_through = True
                    event = adopted_event(carried, base)
                    if event["type"] in TERMINAL_EVENTS and store:
                        final = event["response"]
                        await self.store.save(principal, record.model_group, conversation, final)
                    yield event
                elif not passed_through:
                    for event in events.feed(chunk):
                        yield event
        finally:
            await chunks.aclose()
        if passed_through:
            return
        closing = list(events.close())
        if events.final is not None and native.get("store", True) is not False:
            # Stored before the client sees `response.completed`, so an immediate follow-up
            # with previous_response_id finds it.
            await self.store.save(principal, record.model_group, conversation, events.final)
        for event in closing:
            yield event

    async def retrieve(self, request: Request) -> Response:
        principal = await self.calls.state.authenticator.authenticate(request.headers)
        stored = await self._stored(principal, request.path_params["response_id"])
        return JSONResponse(stored.response)

    async def input_items(self, request: Request) -> Response:
        principal = await self.calls.state.authenticator.authenticate(request.headers)
        stored = await self._stored(principal, request.path_params["response_id"])
        items = [
            {"id": item.get("id") or new_item_id("item"), **item} for item in stored.input_items
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": items,
                "first_id": items[0]["id"] if items else None,
                "last_id": items[-1]["id"] if items else None,
                "has_more": False,
            }
        )

    async def delete(self, request: Request) -> Response:
        principal = await self.calls.state.authenticator.authenticate(request.headers)
        response_id = request.path_params["response_id"]
        if not await self.store.delete(principal, response_id):
            raise _not_found(response_id)
        return JSONResponse({"id": response_id, "object": "response", "deleted": True})

    async def _stored(self, principal: Principal, response_id: str) -> StoredResponse:
        stored = await self.store.load(principal, response_id)
        if stored is None:
            raise _not_found(response_id)
        return stored


def _not_found(response_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{response_id}' not found.", param="response_id")


def _sse_response(events: AsyncGenerator[JSON, None]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        sequence = 0
        try:
            async for event in events:
                sequence = int(event.get("sequence_number", sequence)) + 1
                yield _sse(event)
        except GatewayError as exc:
            ctx = current_context()
            if ctx is not None:
                ctx.error = f"{type(exc).__name__}: {exc.message}"
            yield _sse(
                {
                    "type": "error",
                    "code": exc.code or type(exc).__name__,
                    "message": exc.message,
                    "param": exc.param,
                    "sequence_number": sequence,
                }
            )
        finally:
            await events.aclose()

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


def retention(state: GatewayState) -> timedelta:
    value = state.config.file.general_settings.responses_retention_period
    if not value:
        return DEFAULT_RETENTION
    try:
        return parse_duration(value)
    except DurationError as exc:
        log.warning("general_settings.responses_retention_period ignored", error=str(exc))
        return DEFAULT_RETENTION


def routes(state: GatewayState) -> list[Route]:
    db = state.accounts.db if state.accounts is not None else None
    handlers = ResponsesRoutes(InferenceCalls(state), ResponseStore(db, retention(state)))
    table: list[Route] = []
    for prefix in ("/v1", ""):
        table += [
            Route(f"{prefix}/responses", handlers.create, methods=["POST"]),
            Route(f"{prefix}/responses/{{response_id}}", handlers.retrieve, methods=["GET"]),
            Route(f"{prefix}/responses/{{response_id}}", handlers.delete, methods=["DELETE"]),
            Route(
                f"{prefix}/responses/{{response_id}}/input_items",
                handlers.input_items,
                methods=["GET"],
            ),
        ]
    return table
