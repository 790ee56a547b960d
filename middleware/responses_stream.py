"""The tool loop's stream written as Responses API events (`POST /v1/responses`).

The model's text and reasoning become `response.output_text.delta` and
`response.reasoning_summary_text.delta` as it writes them; calls to the client's own function
tools become `function_call` items at the end; `response.completed` carries the usage of every
model call. MCP calls that ran here are never items: the client would try to run them.

Progress blocks (`<details type="tool_calls">`) are Open WebUI's markup, so they are not
streamed as text here. When a turn ends with client calls, the MCP calls made in that turn
travel in a reasoning item (`responses_carry`) placed before the `function_call` items.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from common.chat import Delta, ToolCallDelta
from common.responses.stream import ResponseEvents, encode_event
from middleware.errors import GatewayHTTPError, MiddlewareError
from middleware.loop import LoopEvents, LoopOutcome
from middleware.responses_carry import carry_item
from middleware.streaming import SseLoopStream

JSON = dict[str, Any]


def _chunk(delta: Delta, finish: str | None = None, usage: Any = None) -> JSON:
    chunk: JSON = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def failure_code(exc: MiddlewareError) -> str:
    """OpenAI's code for a failed response: clients retry `rate_limit_exceeded` later."""
    if isinstance(exc, GatewayHTTPError) and exc.status == 429:
        return "rate_limit_exceeded"
    return "server_error"


class ResponsesLoopStream(SseLoopStream):
    def __init__(
        self,
        run: Callable[[LoopEvents], Awaitable[LoopOutcome]],
        *,
        base: JSON,
        heartbeat: float,
    ) -> None:
        # Progress blocks are not streamed (see the module docstring).
        super().__init__(run, heartbeat=heartbeat, progress=False)
        self.events = ResponseEvents(base)

    @staticmethod
    def _encode(events: Iterator[JSON]) -> bytes:
        return b"".join(encode_event(event) for event in events)

    def opening(self) -> bytes:
        return self._encode(self.events.start())

    def answer_delta(self, delta: Delta) -> bytes:
        return self._encode(self.events.feed(_chunk(delta)))

    def tool_block(self, block: str) -> bytes:
        return b""

    def failed(self, exc: MiddlewareError) -> bytes:
        return self._encode(self.events.fail(failure_code(exc), exc.message))

    def finished(self, outcome: LoopOutcome) -> Iterator[bytes]:
        message = outcome.message
        if not outcome.streamed:
            reasoning = message.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                yield self._encode(self.events.feed(_chunk({"reasoning_content": reasoning})))
            text = answer_text(outcome)
            if text:
                yield self._encode(self.events.feed(_chunk({"content": text})))
        # else the model's own text went out as it came.
        carried = carry_item(outcome.blocks) if outcome.client_calls else None
        if carried is not None:
            yield self._encode(self.events.whole_item(carried))
        calls: list[ToolCallDelta] = [
            {
                "index": i,
                "id": call["id"],
                "type": "function",
                "function": {
                    "name": call["function"]["name"],
                    "arguments": call["function"]["arguments"],
                },
            }
            for i, call in enumerate(outcome.client_calls)
        ]
        if calls:
            yield self._encode(self.events.feed(_chunk({"tool_calls": calls})))
        yield self._encode(self.events.feed(_chunk({}, outcome.finish_reason, outcome.usage)))
        yield self._encode(self.events.close())


def answer_text(outcome: LoopOutcome) -> str:
    """The model's own text: without the progress blocks chat puts before client calls."""
    if outcome.client_calls:
        return outcome.response_text
    return str(outcome.message.get("content") or "")
