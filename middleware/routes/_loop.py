"""What every tool-loop route does before the loop starts: check the key, name the end user,
merge the MCP tools with the client's, rebuild the history; and the loop run itself, counted
in the metrics under the route's kind (`chat`, `responses`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request

from common.chat import ChatRequest, Message
from middleware.history import prepare_history
from middleware.http_io import bearer_key
from middleware.loop import LoopEvents, LoopOutcome
from middleware.state import AppState
from middleware.tools import RequestTools, merge_tools, should_inject

LoopRun = Callable[[LoopEvents], Awaitable[LoopOutcome]]


def authorization(request: Request) -> str | None:
    key = bearer_key(request.headers)
    return f"Bearer {key}" if key else None


async def prepare_run(
    request: Request, state: AppState, body: ChatRequest, messages: list[Message], *, kind: str
) -> LoopRun:
    """The loop for a chat-shaped `body` whose conversation is `messages`, ready to run with
    the route's events (a stream's, or none)."""
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
    return functools.partial(
        _run,
        state,
        kind,
        body,
        history,
        tools,
        authorization(request),
        bool(body.get("stream")) and settings.upstream_stream,
        end_user.session_key,
    )


async def _run(
    state: AppState,
    kind: str,
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
        state.metrics.requests.labels(kind, "error").inc()
        raise
    state.metrics.requests.labels(kind, "ok").inc()
    state.metrics.loop_iterations.observe(outcome.iterations)
    return outcome
