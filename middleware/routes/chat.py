"""`POST /v1/chat/completions`: tools in, the loop, the reply (JSON or SSE)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from common.chat import ChatCompletion, ChatRequest, MessageContent
from common.chat_validation import ChatBodyError, parse_chat_request
from middleware.errors import BadRequestError
from middleware.http_io import JSONResponse, read_json_object
from middleware.loop import LoopOutcome, NoEvents
from middleware.routes._loop import authorization, prepare_run
from middleware.routes._state import app_state
from middleware.streaming import LoopStream

TASK_PREFIX = "### Task:"


def _text(content: MessageContent) -> str:
    if isinstance(content, str):
        return content
    for part in content or ():
        if part.get("type") == "text":
            return part.get("text") or ""
    return ""


def is_auxiliary(body: ChatRequest) -> bool:
    """Open WebUI's title/tags/follow-up tasks: non-streaming, no tools, one `### Task:`."""
    if body.get("stream") or body.get("tools"):
        return False
    users = [m for m in body["messages"] if m["role"] == "user"]
    return len(users) == 1 and _text(users[0].get("content")).lstrip().startswith(TASK_PREFIX)


async def read_chat_request(request: Request) -> ChatRequest:
    """The body, checked once: a malformed one is a 400 naming the field, never a 500 later."""
    try:
        return parse_chat_request(await read_json_object(request))
    except ChatBodyError as exc:
        raise BadRequestError(exc.message, code=exc.code, param=exc.param) from None


def reply_body(outcome: LoopOutcome) -> ChatCompletion:
    body = outcome.response.copy()
    body["choices"] = [
        {
            "index": 0,
            "message": outcome.message,
            "finish_reason": outcome.finish_reason,
            "logprobs": None,
        }
    ]
    body["usage"] = outcome.usage
    return body


async def chat_completions(request: Request) -> Response | ASGIApp:
    started = time.perf_counter()
    state = app_state(request)
    body = await read_chat_request(request)
    if is_auxiliary(body):
        state.metrics.requests.labels("auxiliary", "ok").inc()
        return JSONResponse(await state.gateway.chat(body, authorization(request)))
    run = await prepare_run(request, state, body, body["messages"], kind="chat")
    settings = state.settings.middleware
    if body.get("stream"):
        options = body.get("stream_options")
        return LoopStream(
            run,
            model=str(body.get("model") or ""),
            heartbeat=settings.heartbeat_interval,
            progress=settings.progress,
            include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
        )
    outcome = await run(NoEvents())
    return JSONResponse(reply_body(outcome), headers=server_timing(outcome, started))


def server_timing(outcome: LoopOutcome, started: float) -> dict[str, str]:
    """Where the time went (model calls, tools, all), for operators and the benchmark."""
    total = (time.perf_counter() - started) * 1000
    model = outcome.timings.model_seconds * 1000
    tools = outcome.timings.tool_seconds * 1000
    return {
        "server-timing": f"model;dur={model:.3f}, tools;dur={tools:.3f}, total;dur={total:.3f}",
        "x-toolrelay-iterations": str(outcome.iterations),
    }


class _Endpoint:
    """Starlette calls an endpoint's result as ASGI, so a `LoopStream` can be returned."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await chat_completions(request)
        await response(scope, receive, send)


routes = [
    Route("/v1/chat/completions", _Endpoint(), methods=["POST"]),
    Route("/chat/completions", _Endpoint(), methods=["POST"]),
]
