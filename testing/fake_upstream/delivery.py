"""Deliver a neutral `Reply` through a format's renderer: latency, errors, pacing and faults.

Faults are acted out at the transport: `hang` never answers, `disconnect` drops the connection
mid-body (uvicorn closes the socket when the app returns before the body is complete, and logs
one line saying so), `malformed` sends a 200 whose body or one SSE event is not JSON, `sse-multiline` splits every
SSE event's JSON over several `data:` lines.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import orjson
import structlog

from .exchange import EVENT_STREAM, Exchange
from .formats import Renderer
from .reply import Fault, Reply

SSE_HEADERS = ((b"cache-control", b"no-cache"),)

_log = structlog.get_logger("fake_upstream")

# A stream that drops sends this many frames first, so clients see a stream that had started.
DISCONNECT_AFTER_FRAMES = 2


async def deliver(
    exchange: Exchange,
    reply: Reply,
    renderer: Renderer,
    *,
    stream: bool,
    stream_content_type: bytes = EVENT_STREAM,
) -> None:
    try:
        await _deliver(exchange, reply, renderer, stream, stream_content_type)
    finally:
        exchange.close()


async def _deliver(
    exchange: Exchange, reply: Reply, renderer: Renderer, stream: bool, content_type: bytes
) -> None:
    if reply.fault is Fault.HANG:
        try:
            await exchange.wait_disconnect()
        except asyncio.CancelledError:
            # Only uvicorn's shutdown cancels a hung request (after its graceful timeout).
            # Ending quietly keeps a traceback out of the log; the task is finishing anyway.
            _log.info("hung request cancelled by server shutdown", path=exchange.path)
        return
    if reply.timing.latency_ms and not await exchange.pause(reply.timing.latency_ms):
        return
    if reply.error is not None:
        error = reply.error
        await exchange.respond(
            error.status, renderer.error_body(error), headers=(*error.headers, *reply.headers)
        )
        return
    if not stream:
        await _deliver_body(exchange, reply, renderer)
        return
    await exchange.start(200, content_type, (*SSE_HEADERS, *reply.headers))
    frames = renderer.frames(reply)
    if reply.fault is Fault.DISCONNECT:
        for frame in itertools.islice(frames, DISCONNECT_AFTER_FRAMES):
            await exchange.chunk(frame)
        _dropping(exchange)
        return
    if reply.fault is Fault.MALFORMED:
        frames = _with_garbage(frames, renderer.malformed_frame())
    if reply.fault is Fault.MULTILINE_DATA:
        frames = (_multiline_data(frame) for frame in frames)
    delay = reply.timing.chunk_delay_ms
    for index, frame in enumerate(frames):
        if delay and index and not await exchange.pause(delay):
            return
        await exchange.chunk(frame)
    await exchange.finish()


async def _deliver_body(exchange: Exchange, reply: Reply, renderer: Renderer) -> None:
    if reply.fault is Fault.MALFORMED:
        await exchange.respond(200, renderer.malformed_body())
        return
    body = renderer.body(reply)
    if reply.fault is Fault.DISCONNECT:
        length = str(len(body)).encode()
        await exchange.start(200, b"application/json", ((b"content-length", length),))
        await exchange.chunk(body[: len(body) // 2])
        _dropping(exchange)
        return
    await exchange.respond(200, body, headers=reply.headers)


def _with_garbage(frames: Iterator[bytes], garbage: bytes) -> Iterator[bytes]:
    return itertools.chain(itertools.islice(frames, 1), (garbage,), frames)


def _multiline_data(frame: bytes) -> bytes:
    """The same SSE event with its JSON data spread over several `data:` lines (pretty-printed,
    so the line breaks fall between JSON tokens) and comment lines around them. Frames that
    are not SSE (Ollama's NDJSON) pass unchanged."""
    lines = frame.rstrip(b"\n").split(b"\n")
    if not any(line.startswith(b"data: {") for line in lines):
        return frame
    out = [b": keep-alive"]
    for line in lines:
        if not line.startswith(b"data: {"):
            out.append(line)
            continue
        pretty = orjson.dumps(orjson.loads(line[len(b"data: ") :]), option=orjson.OPT_INDENT_2)
        first, *rest = pretty.split(b"\n")
        out += [b"data: " + first, b": a comment inside the event", *(b"data:" + r for r in rest)]
    return b"\n".join(out) + b"\n\n"


def _dropping(exchange: Exchange) -> None:
    # uvicorn follows with "ASGI callable returned without completing response": expected here.
    _log.info("dropping the connection mid-response on purpose", path=exchange.path)
