"""The tool loop's stream as Responses events, driven in process (no network, no sleeps):
every event validates against the openai SDK's own event types."""

from __future__ import annotations

from typing import Any

import anyio
import orjson
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from common.responses.response import skeleton
from middleware.errors import GatewayHTTPError
from middleware.loop import LoopEvents, LoopOutcome
from middleware.progress import ProgressCall, render_block
from middleware.responses_carry import expand_carried
from middleware.responses_stream import ResponsesLoopStream
from tests.middleware.test_streaming import Collector, _receive

EVENT = TypeAdapter(ResponseStreamEvent)
BLOCK = render_block(ProgressCall("call_9", "test_echo", '{"text":"x"}', "echo: x"))
CLIENT_CALL = {"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}


def _stream(run: Any, heartbeat: float = 30) -> ResponsesLoopStream:
    base = skeleton({"model": "m", "tools": []}, "resp_test", "m", created_at=1)
    return ResponsesLoopStream(run, base=base, heartbeat=heartbeat)


def _events(collector: Collector) -> list[dict[str, Any]]:
    events = []
    for frame in collector.body.decode().split("\n\n"):
        lines = frame.split("\n")
        if len(lines) == 2 and lines[1].startswith("data: "):
            event = orjson.loads(lines[1][6:])
            assert lines[0] == f"event: {event['type']}"
            EVENT.validate_python(event)  # the SDK's own type, every field checked
            events.append(event)
    return events


async def _drive(stream: ResponsesLoopStream) -> Collector:
    collector = Collector()
    with anyio.fail_after(10):
        await stream({"type": "http"}, _receive, collector.send)
    return collector


@pytest.mark.anyio
async def test_streamed_text_then_client_calls_then_completed() -> None:
    async def run(events: LoopEvents) -> LoopOutcome:
        await events.answer_delta({"reasoning_content": "thinking"})
        await events.answer_delta({"content": "checking\n"})
        await events.tool_finished(BLOCK)
        message = {"role": "assistant", "content": BLOCK + "checking\n"}
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        outcome = LoopOutcome(
            {}, message, "tool_calls", usage, 1, [BLOCK], [CLIENT_CALL], "checking\n"
        )
        outcome.streamed = True
        return outcome

    events = _events(await _drive(_stream(run)))

    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    texts = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert texts == ["checking\n"]  # the block is not text
    final = events[-1]
    assert final["type"] == "response.completed"
    output = final["response"]["output"]
    assert [item["type"] for item in output] == [
        "reasoning",
        "message",
        "reasoning",
        "function_call",
    ]
    assert output[3]["call_id"] == "c1" and output[3]["name"] == "now"
    # the MCP call of that turn rides in the opaque reasoning item, and comes back from it
    assert expand_carried([output[2]]) == [
        {
            "type": "function_call",
            "call_id": "call_9",
            "name": "test_echo",
            "arguments": '{"text":"x"}',
        },
        {"type": "function_call_output", "call_id": "call_9", "output": "echo: x"},
    ]
    assert final["response"]["usage"]["input_tokens"] == 7
    assert final["response"]["usage"]["output_tokens"] == 3


@pytest.mark.anyio
async def test_a_whole_answer_goes_out_at_the_end_when_the_model_was_not_streamed() -> None:
    async def run(events: LoopEvents) -> LoopOutcome:
        await events.tool_finished(BLOCK)  # progress blocks are not text here
        message = {"role": "assistant", "content": "answer", "reasoning_content": "why"}
        return LoopOutcome({}, message, "stop", {"total_tokens": 2}, 2, [BLOCK])

    events = _events(await _drive(_stream(run)))

    texts = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert texts == ["answer"]
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["reasoning", "message"]


@pytest.mark.anyio
async def test_an_error_before_anything_was_sent_keeps_its_status() -> None:
    async def run(events: LoopEvents) -> LoopOutcome:
        raise GatewayHTTPError(401, {"error": {"message": "bad key", "type": "auth"}})

    collector = await _drive(_stream(run))

    assert collector.status == 401
    assert orjson.loads(collector.body)["error"]["message"] == "bad key"


@pytest.mark.anyio
async def test_an_error_after_the_stream_started_is_response_failed() -> None:
    async def run(events: LoopEvents) -> LoopOutcome:
        await events.answer_delta({"content": "partial"})
        raise GatewayHTTPError(429, {"error": {"message": "slow down", "type": "rate_limit"}})

    collector = await _drive(_stream(run))

    assert collector.status == 200
    events = _events(collector)
    failed = events[-1]
    assert failed["type"] == "response.failed"
    assert failed["response"]["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}
    assert failed["response"]["output"][0]["content"][0]["text"] == "partial"


@pytest.mark.anyio
async def test_heartbeats_are_sse_comments_before_the_first_event() -> None:
    collector = Collector()

    async def run(events: LoopEvents) -> LoopOutcome:
        await collector.heartbeat.wait()
        return LoopOutcome({}, {"role": "assistant", "content": "late"}, "stop", {}, 1)

    with anyio.fail_after(10):
        await _stream(run, heartbeat=0.01)({"type": "http"}, _receive, collector.send)

    assert b": keep-alive\n\n" in collector.body
    assert _events(collector)[-1]["type"] == "response.completed"
