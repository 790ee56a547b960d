"""`POST /v1/responses`: OpenAI's Responses API around the same tool loop as chat.

The request becomes a chat request (`common.responses.request`, the gateway's translation),
the loop runs MCP calls here exactly as for chat, and the answer goes back as a Response or as
its stream events. Calls to the client's own function tools come back as `function_call`
items; MCP calls never do (those of a turn that also called client tools travel in an opaque
reasoning item, see `responses_carry`).

The middleware keeps no state, so it stores no responses: clients send the whole conversation
in `input` (Codex CLI does, with `store: false`). Tools that run only on OpenAI's servers
(`web_search`, ...) cannot run behind a chat model; they are left out, and the MCP tools are
offered instead. A `namespace` of function tools is the client's: its tools are offered
under `<namespace>__<name>`, and calls to them go back with their namespace.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from common.chat import ChatRequest
from common.chat_validation import ChatBodyError, parse_chat_request
from common.responses.request import (
    ResponsesBodyError,
    chat_request,
    hosted_tool_types,
    input_items,
)
from common.responses.response import from_completion, new_item_id, skeleton
from middleware.errors import BadRequestError
from middleware.http_io import JSONResponse, read_json_object
from middleware.loop import LoopOutcome, NoEvents
from middleware.responses_carry import carry_item, expand_carried
from middleware.responses_stream import ResponsesLoopStream, answer_text
from middleware.routes._loop import prepare_run
from middleware.routes._state import app_state
from middleware.routes.chat import reply_body, server_timing

logger = structlog.get_logger("middleware.responses")


def chat_body(native: dict[str, Any]) -> ChatRequest:
    """The chat request for a Responses body, or a 400 naming what is wrong."""
    model = native.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequestError("Missing required parameter: 'model'.", code="missing_model")
    if "input" not in native:
        raise BadRequestError("Missing required parameter: 'input'.", code="missing_input")
    if native.get("previous_response_id") is not None:
        raise BadRequestError(
            "previous_response_id: the middleware stores no responses; send the whole "
            "conversation in 'input' (or use the gateway's /v1/responses, which stores them).",
            code="unsupported_parameter",
        )
    if native.get("background"):
        raise BadRequestError(
            "background: responses run in the foreground here.", code="unsupported_parameter"
        )
    try:
        items = expand_carried(input_items(native["input"]))
        # checked like a chat body: the loop and the gateway client take the typed contract
        body = parse_chat_request(chat_request(native, items, hosted_tools="drop"))
    except ResponsesBodyError as exc:
        raise BadRequestError(exc.message, code=exc.code) from None
    except ChatBodyError as exc:
        raise BadRequestError(exc.message, code=exc.code, param=exc.param) from None
    dropped = hosted_tool_types(native.get("tools"))
    if dropped:
        logger.debug("hosted tools left out", types=dropped)
    return body


async def create_response(request: Request) -> Response | ASGIApp:
    started = time.perf_counter()
    state = app_state(request)
    native = await read_json_object(request)
    body = chat_body(native)
    base = skeleton(native, new_item_id("resp"), str(native["model"]))
    run = await prepare_run(request, state, body, body["messages"], kind="responses")
    if body.get("stream"):
        return ResponsesLoopStream(
            run, base=base, heartbeat=state.settings.middleware.heartbeat_interval
        )
    outcome = await run(NoEvents())
    return JSONResponse(response_body(base, outcome), headers=server_timing(outcome, started))


def response_body(base: dict[str, Any], outcome: LoopOutcome) -> dict[str, Any]:
    completion = reply_body(outcome)
    completion["choices"][0]["message"] = {**outcome.message, "content": answer_text(outcome)}
    response = from_completion(base, completion)
    carried = carry_item(outcome.blocks) if outcome.client_calls else None
    if carried is not None:
        # after the text, before the client's calls: where the streamed form puts it
        output = response["output"]
        at = next((i for i, item in enumerate(output) if item["type"] == "function_call"), 0)
        output.insert(at, carried)
    return response


class _Endpoint:
    """Starlette calls an endpoint's result as ASGI, so a stream can be returned."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        response = await create_response(Request(scope, receive))
        await response(scope, receive, send)


routes = [
    Route("/v1/responses", _Endpoint(), methods=["POST"]),
    Route("/responses", _Endpoint(), methods=["POST"]),
]
