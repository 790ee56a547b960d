"""The tool loop: call the model, run its MCP calls, repeat until it answers.

- Streamed mode (the client streams, and `upstream_stream` is on): every model call is
  `stream=true` with `include_usage`. Text and reasoning deltas go to the client at once
  (`LoopEvents.answer_delta`); `tool_calls` deltas are gathered until the model finishes.
  Text the model writes before a tool call has already gone out when the call arrives: it
  stays in the reply, followed by the tool's progress block, and the model gets it back as
  its own message's content. Otherwise each call is `stream=false`.

- MCP calls of one turn run concurrently, each bounded by the pool's timeout and
  per-server concurrency cap; failures come back to the model as tool messages.
- Calls to the client's own tools end the loop: they go back to the client. MCP calls made
  in that same turn still run, and travel in the reply's progress blocks (see `history`).
- A call identical to an earlier one in this loop (same name and arguments) is not run
  again; the model is told so.
- After `max_iterations` model calls with tool calls, one more call without tools gets the
  final answer.
"""

from __future__ import annotations

import itertools
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Protocol, cast

import anyio
import orjson

from common.chat import (
    AssistantMessage,
    ChatCompletion,
    ChatRequest,
    Delta,
    Message,
    OutputToolCall,
    ToolCall,
    Usage,
)
from middleware.gateway_client import GatewayClient
from middleware.progress import ProgressCall, render_block
from middleware.runner import ToolRunner
from middleware.stream_accumulator import StreamAccumulator
from middleware.tools import RequestTools
from middleware.tracing import mark_iteration
from middleware.usage import add_usage, empty_usage

FINAL_NOTE = (
    "[toolrelay] The tool-call limit for this request was reached. Answer now with what "
    "you have, without calling tools."
)


class LoopEvents(Protocol):
    async def tool_finished(self, block: str) -> None: ...

    async def answer_delta(self, delta: Delta) -> None:
        """Text (`content`) or `reasoning_content` the model just streamed."""
        ...


class NoEvents:
    async def tool_finished(self, block: str) -> None:
        return None

    async def answer_delta(self, delta: Delta) -> None:
        return None


@dataclass
class LoopTimings:
    """Where the time went: for the benchmark of the middleware's own cost."""

    model_seconds: float = 0.0
    tool_seconds: float = 0.0


@dataclass
class LoopOutcome:
    response: ChatCompletion  # the last gateway response (its envelope goes to the client)
    message: AssistantMessage  # the final message
    finish_reason: str
    usage: Usage  # summed over every model call
    iterations: int
    blocks: list[str] = field(default_factory=list)
    client_calls: list[OutputToolCall] = field(default_factory=list)
    response_text: str = ""  # the model's own text in the final message (no blocks)
    timings: LoopTimings = field(default_factory=LoopTimings)
    streamed: bool = False  # the model's text already went out through `answer_delta`


def _call_key(name: str, arguments: str) -> tuple[str, str]:
    try:
        parsed = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return name, arguments
    return name, orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS).decode()


def _parse_arguments(raw: str) -> dict[str, object] | str:
    """The arguments object, or a message saying why it is unusable."""
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"Tool error: the arguments are not valid JSON ({exc})."
    if not isinstance(value, dict):
        return "Tool error: the arguments must be a JSON object."
    return value


@dataclass
class _Turn:
    call: OutputToolCall
    name: str
    arguments: str
    result: str = ""


class ToolLoop:
    def __init__(self, gateway: GatewayClient, runner: ToolRunner, max_iterations: int) -> None:
        self.gateway = gateway
        self.runner = runner
        self.max_iterations = max_iterations

    async def run(
        self,
        body: ChatRequest,
        messages: list[Message],
        tools: RequestTools,
        authorization: str | None,
        events: LoopEvents,
        *,
        stream: bool = False,
        user: str | None = None,
    ) -> LoopOutcome:
        """`user`: the end user's MCP session scope, for servers with per-user sessions."""
        outcome = await self._run(body, messages, tools, authorization, events, stream, user)
        outcome.streamed = stream
        return outcome

    async def _run(
        self,
        body: ChatRequest,
        messages: list[Message],
        tools: RequestTools,
        authorization: str | None,
        events: LoopEvents,
        stream: bool,
        user: str | None,
    ) -> LoopOutcome:
        request = body.copy()
        request.pop("stream_options", None)
        request["stream"] = stream
        if stream:
            request["stream_options"] = {"include_usage": True}
        if tools.specs:
            request["tools"] = tools.specs
        else:
            request.pop("tools", None)
            request.pop("tool_choice", None)
        messages = list(messages)
        usage = empty_usage()
        timings = LoopTimings()
        seen: dict[tuple[str, str], str] = {}
        blocks: list[str] = []
        ids = itertools.count(1)
        for iteration in range(1, self.max_iterations + 1):
            mark_iteration(iteration)
            response = await self._model(request, messages, authorization, timings, events)
            add_usage(usage, response.get("usage"))
            message, finish = _first_choice(response)
            calls = message.get("tool_calls") or []
            if not calls:
                return LoopOutcome(
                    response,
                    message,
                    _answer_finish(finish),
                    usage,
                    iteration,
                    blocks,
                    timings=timings,
                )
            for call in calls:
                if not call["id"]:
                    call["id"] = f"call_toolrelay_{next(ids)}"
            client_calls = [c for c in calls if _name(c) in tools.client_names]
            server_calls = [c for c in calls if _name(c) not in tools.client_names]
            turns = await self._run_calls(server_calls, tools, seen, events, blocks, timings, user)
            if client_calls:
                reply = message.copy()
                reply["content"] = "".join(blocks) + (message["content"] or "")
                reply["tool_calls"] = client_calls
                return LoopOutcome(
                    response,
                    reply,
                    "tool_calls",
                    usage,
                    iteration,
                    blocks,
                    client_calls,
                    message["content"] or "",
                    timings,
                )
            # a call as the model made it is one the gateway accepts back (TypedDict items
            # are invariant, so mypy cannot see that `str` fits `str | None`)
            history_calls = cast(list[ToolCall], calls)
            messages.append(
                {
                    "role": "assistant",
                    "content": message["content"],
                    "tool_calls": history_calls,
                }
            )
            messages.extend(
                {"role": "tool", "tool_call_id": t.call["id"], "content": t.result} for t in turns
            )
        # OpenAI refuses `tool_choice`/`parallel_tool_calls` without `tools`.
        final_request = request.copy()
        final_request.pop("tools", None)
        final_request.pop("tool_choice", None)
        final_request.pop("parallel_tool_calls", None)
        messages.append({"role": "user", "content": FINAL_NOTE})
        mark_iteration(self.max_iterations + 1)
        response = await self._model(final_request, messages, authorization, timings, events)
        add_usage(usage, response.get("usage"))
        message, _ = _first_choice(response)
        message = message.copy()
        message.pop("tool_calls", None)
        return LoopOutcome(
            response, message, "stop", usage, self.max_iterations + 1, blocks, timings=timings
        )

    async def _model(
        self,
        request: ChatRequest,
        messages: list[Message],
        authorization: str | None,
        timings: LoopTimings,
        events: LoopEvents,
    ) -> ChatCompletion:
        request["messages"] = messages
        started = time.perf_counter()
        try:
            if not request.get("stream"):
                return await self.gateway.chat(request, authorization)
            turn = StreamAccumulator()
            async with aclosing(self.gateway.chat_stream(request, authorization)) as chunks:
                async for chunk in chunks:
                    delta = turn.add(chunk)
                    if delta is not None:
                        await events.answer_delta(delta)
            return turn.response()
        finally:
            timings.model_seconds += time.perf_counter() - started

    async def _run_calls(
        self,
        calls: list[OutputToolCall],
        tools: RequestTools,
        seen: dict[tuple[str, str], str],
        events: LoopEvents,
        blocks: list[str],
        timings: LoopTimings,
        user: str | None,
    ) -> list[_Turn]:
        turns = [_Turn(c, _name(c), c["function"]["arguments"] or "{}") for c in calls]
        started = time.perf_counter()

        async def finish(turn: _Turn, result: str) -> None:
            turn.result = result
            block = render_block(ProgressCall(turn.call["id"], turn.name, turn.arguments, result))
            blocks.append(block)
            await events.tool_finished(block)

        async def execute(turn: _Turn) -> None:
            entry = tools.mcp.get(turn.name)
            if entry is None:
                await finish(turn, f"Tool error: there is no tool named '{turn.name}'.")
                return
            arguments = _parse_arguments(turn.arguments)
            if isinstance(arguments, str):
                await finish(turn, arguments)
                return
            shaped = await self.runner.run(entry.server, entry.tool, arguments, user)
            await finish(turn, shaped.text)

        async with anyio.create_task_group() as tg:
            for turn in turns:
                key = _call_key(turn.name, turn.arguments)
                earlier = seen.get(key)
                if earlier is not None:
                    await finish(
                        turn,
                        f"Not run again: this exact call ({turn.name} with the same arguments) "
                        f"was already made in this turn (tool_call_id {earlier}); its result is "
                        "above. Use that result, or call something different.",
                    )
                    continue
                seen[key] = turn.call["id"]
                tg.start_soon(execute, turn)
        timings.tool_seconds += time.perf_counter() - started
        return turns


def _name(call: OutputToolCall) -> str:
    return call["function"]["name"]


def _first_choice(response: ChatCompletion) -> tuple[AssistantMessage, str | None]:
    if response["choices"]:
        first = response["choices"][0]
        return first["message"], first["finish_reason"]
    return {"role": "assistant", "content": ""}, None


def _answer_finish(finish: str | None) -> str:
    return finish if finish and finish != "tool_calls" else "stop"
