"""`POST /v1/chat/completions`: tools in, the loop, the reply (JSON or SSE)."""

from __future__ import annotations

import functools
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from common.chat import ChatCompletion, ChatRequest, Message, MessageContent
from common.chat_validation import ChatBodyError, parse_chat_request
from middleware.errors import BadRequestError
from middleware.history import prepare_history
from middleware.http_io import JSONResponse, bearer_key, read_json_object
from middleware.loop import LoopEvents, LoopOutcome, NoEvents
from middleware.routes._state import app_state
from middleware.state import AppState
from middleware.streaming import LoopStream
from middleware.tools import RequestTools, merge_tools, should_inject

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


def _authorization(request: Request) -> str | None:
    key = bearer_key(request.headers)
    return f"Bearer {key}" if key else None


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
    messages = body["messages"]
    authorization = _authorization(request)
    if is_auxiliary(body):
        state.metrics.requests.labels("auxiliary", "ok").inc()
        return JSONResponse(await state.gateway.chat(body, authorization))
    settings = state.settings.middleware
    key = bearer_key(request.headers)
    check = await state.keys.check(key)
    end_user = state.end_users.resolve(request.headers, body.get("user"), key)
    if end_user.from_openwebui:
        # The gateway's end-user spend, budgets and limits then apply per person.
        body = {**body, "user": end_user.id}
    tools = merge_tools(
        state.catalog(), check.permissions, body.get("tools"), should_inject(settings, body)
    )
    history = prepare_history(messages, settings.history_tool_blocks)
    streaming = bool(body.get("stream"))
    run = functools.partial(
        _run,
        state,
        body,
        history,
        tools,
        authorization,
        streaming and settings.upstream_stream,
        end_user.session_key,
    )
    if streaming:
        options = body.get("stream_options")
        return LoopStream(
            run,
            model=str(body.get("model") or ""),
            heartbeat=settings.heartbeat_interval,
            progress=settings.progress,
            include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
        )
    outcome = await run(NoEvents())
    return JSONResponse(reply_body(outcome), headers=_server_timing(outcome, started))


def _server_timing(outcome: LoopOutcome, started: float) -> dict[str, str]:
    """Where the time went (model calls, tools, all), for operators and the benchmark."""
    total = (time.perf_counter() - started) * 1000
    model = outcome.timings.model_seconds * 1000
    tools = outcome.timings.tool_seconds * 1000
    return {
        "server-timing": f"model;dur={model:.3f}, tools;dur={tools:.3f}, total;dur={total:.3f}",
        "x-toolrelay-iterations": str(outcome.iterations),
    }


async def _run(
    state: AppState,
    body: ChatRequest,
    history: list[Message],
    tools: RequestTools,
    authorization: str | None,
    stream: bool,
    user: str,
    events: LoopEvents,
) -> LoopOutcome:
    try:
        outcome = await state.loop.run(
            body, history, tools, authorization, events, stream=stream, user=user
        )
    except Exception:
        state.metrics.requests.labels("chat", "error").inc()
        raise
    state.metrics.requests.labels("chat", "ok").inc()
    state.metrics.loop_iterations.observe(outcome.iterations)
    return outcome


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
