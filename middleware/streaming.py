"""The streaming reply: a real SSE stream around the tool loop, as an ASGI response
(`SseLoopStream`), written as chat chunks here (`LoopStream`) or as Responses events
(`responses_stream`).

While the loop runs, the stream carries the model's text and reasoning as it is written
(streamed upstream mode), one finished progress block per tool, and SSE comment heartbeats
when nothing else moves. Then the rest of the answer (all of it, when the model was not
streamed), the finish reason, usage when asked, and `[DONE]`.
The status is decided late: an error before anything was sent (say the gateway's 401) is
answered as a plain JSON error with its own status.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import orjson
import structlog
from anyio.streams.memory import MemoryObjectSendStream
from starlette.types import Receive, Scope, Send

from common.chat import ChatCompletionChunk, Delta, ToolCallDelta
from middleware.errors import MiddlewareError
from middleware.loop import LoopEvents, LoopOutcome

logger = structlog.get_logger("middleware.streaming")
HEARTBEAT = b": keep-alive\n\n"
DONE = b"data: [DONE]\n\n"
ANSWER_PIECE = 512
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]

# ("delta", Delta) | ("block", str) | ("error", MiddlewareError) | ("done", LoopOutcome)
Event = tuple[str, Delta | str | MiddlewareError | LoopOutcome]


class _Events:
    def __init__(self, channel: MemoryObjectSendStream[Event], progress: bool) -> None:
        self.channel = channel
        self.progress = progress

    async def tool_finished(self, block: str) -> None:
        if self.progress:
            await self.channel.send(("block", block))

    async def answer_delta(self, delta: Delta) -> None:
        await self.channel.send(("delta", delta))


def _sse(payload: ChatCompletionChunk | dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


class SseLoopStream:
    """The stream's machinery, whatever the wire format: the loop in a task, its events on a
    channel, heartbeats while nothing moves, the client's disconnect, and the late status.
    A subclass writes the events in its format (chat chunks, Responses events)."""

    def __init__(
        self,
        run: Callable[[LoopEvents], Awaitable[LoopOutcome]],
        *,
        heartbeat: float,
        progress: bool,
    ) -> None:
        self.run = run
        self.heartbeat = heartbeat
        self.progress = progress

    def opening(self) -> bytes:
        """What goes out first, once the status is sent."""
        raise NotImplementedError

    def answer_delta(self, delta: Delta) -> bytes:
        raise NotImplementedError

    def tool_block(self, block: str) -> bytes:
        raise NotImplementedError

    def failed(self, exc: MiddlewareError) -> bytes:
        """The end of a stream that failed after it started."""
        raise NotImplementedError

    def finished(self, outcome: LoopOutcome) -> Iterator[bytes]:
        """The rest of the answer and the end of the stream."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender, receiver = anyio.create_memory_object_stream[Event](math.inf)
        events = _Events(sender, self.progress)

        async def work() -> None:
            try:
                outcome = await self.run(events)
            except MiddlewareError as exc:
                await sender.send(("error", exc))
                return
            except Exception:  # boundary: the client gets an error event, never a traceback
                logger.exception("tool loop failed")
                await sender.send(("error", MiddlewareError("Internal error in the tool loop.")))
                return
            await sender.send(("done", outcome))

        async def watch_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    tg.cancel_scope.cancel()
                    return

        started = False

        async def start() -> None:
            nonlocal started
            started = True
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await body(self.opening())

        async def body(data: bytes) -> None:
            if data:
                await send({"type": "http.response.body", "body": data, "more_body": True})

        with sender, receiver:
            async with anyio.create_task_group() as tg:
                tg.start_soon(work)
                tg.start_soon(watch_disconnect)
                while True:
                    event: Event | None = None
                    with anyio.move_on_after(self.heartbeat):
                        event = await receiver.receive()
                    if event is None:
                        if not started:
                            await start()
                        await body(HEARTBEAT)
                        continue
                    if await self._handle(*event, started, start, body, send):
                        break
                tg.cancel_scope.cancel()

    async def _handle(
        self,
        kind: str,
        payload: Any,
        started: bool,
        start: Callable[[], Awaitable[None]],
        body: Callable[[bytes], Awaitable[None]],
        send: Send,
    ) -> bool:
        if kind == "error" and not started:
            exc: MiddlewareError = payload
            await send(
                {
                    "type": "http.response.start",
                    "status": exc.status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": orjson.dumps(exc.body())})
            return True
        if not started:
            await start()
        if kind == "delta":
            await body(self.answer_delta(payload))
            return False
        if kind == "block":
            await body(self.tool_block(payload))
            return False
        if kind == "error":
            await send(
                {"type": "http.response.body", "body": self.failed(payload), "more_body": False}
            )
            return True
        for data in self.finished(payload):
            await body(data)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True


class LoopStream(SseLoopStream):
    """The chat format: `chat.completion.chunk`s, progress blocks as content, `[DONE]`."""

    def __init__(
        self,
        run: Callable[[LoopEvents], Awaitable[LoopOutcome]],
        *,
        model: str,
        heartbeat: float,
        progress: bool,
        include_usage: bool,
    ) -> None:
        super().__init__(run, heartbeat=heartbeat, progress=progress)
        self.model = model
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        # Whether the streamed text so far ends a line: a progress block must start one.
        self._at_line_start = True

    def _chunk(self, delta: Delta, finish: str | None = None) -> bytes:
        return _sse(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    def opening(self) -> bytes:
        return self._chunk({"role": "assistant", "content": ""})

    def answer_delta(self, delta: Delta) -> bytes:
        text = delta.get("content")
        if text:
            self._at_line_start = text.endswith("\n")
        return self._chunk(delta)

    def tool_block(self, block: str) -> bytes:
        separator = "" if self._at_line_start else "\n"
        self._at_line_start = True
        return self._chunk({"content": separator + block})

    def failed(self, exc: MiddlewareError) -> bytes:
        return _sse(exc.body()) + DONE

    def finished(self, outcome: LoopOutcome) -> Iterator[bytes]:
        content = outcome.message.get("content") or ""
        if outcome.streamed:
            # The model's text went out as it came; so did the blocks, unless progress is off
            # (then they still travel once, for the next turn's history).
            content = "" if self.progress or not outcome.client_calls else "".join(outcome.blocks)
        elif outcome.client_calls and self.progress:
            # The blocks already went out as progress; only the model's own text is left.
            content = outcome.response_text
        for start in range(0, len(content), ANSWER_PIECE):
            yield self._chunk({"content": content[start : start + ANSWER_PIECE]})
        if outcome.client_calls:
            deltas: list[ToolCallDelta] = [
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
            yield self._chunk({"tool_calls": deltas})
        yield self._chunk({}, outcome.finish_reason)
        if self.include_usage:
            yield _sse(
                {
                    "id": self.id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "choices": [],
                    "usage": outcome.usage,
                }
            )
        yield DONE
