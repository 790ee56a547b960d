"""The SSE reply as an ASGI app, driven in process (no network, no sleeps)."""

from __future__ import annotations

from typing import Any

import anyio
import orjson
import pytest

from middleware.errors import GatewayHTTPError
from middleware.loop import LoopEvents, LoopOutcome
from middleware.streaming import LoopStream


class Collector:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.heartbeat = anyio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if b": keep-alive" in message.get("body", b""):
            self.heartbeat.set()

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


async def _receive() -> dict[str, Any]:
    await anyio.sleep_forever()
    return {}


def _stream(run: Any, **options: Any) -> LoopStream:
    defaults: dict[str, Any] = {
        "model": "m",
        "heartbeat": 0.01,
        "progress": True,
        "include_usage": True,
    }
    return LoopStream(run, **{**defaults, **options})


_ERROR = GatewayHTTPError(429, {"error": {"message": "slow down", "type": "rate_limit_error"}})


@pytest.mark.anyio
async def test_an_error_before_anything_was_sent_keeps_its_status() -> None:
    async def run(events: LoopEvents) -> LoopOutcome:
        raise _ERROR

    collector = Collector()
    with anyio.fail_after(10):
        await _stream(run, heartbeat=30)({"type": "http"}, _receive, collector.send)
    assert collector.status == 429
    assert orjson.loads(collector.body)["error"]["message"] == "slow down"


@pytest.mark.anyio
async def test_an_error_after_heartbeats_is_an_error_event() -> None:
    collector = Collector()

    async def run(events: LoopEvents) -> LoopOutcome:
        await collector.heartbeat.wait()
        raise _ERROR

    with anyio.fail_after(10):
        await _stream(run)({"type": "http"}, _receive, collector.send)
    assert collector.status == 200
    assert b": keep-alive\n\n" in collector.body
    assert b'data: {"error":{"message":"slow down"' in collector.body
    assert collector.body.endswith(b"data: [DONE]\n\n")


@pytest.mark.anyio
async def test_blocks_then_answer_then_usage_then_done() -> None:
    async def run(events: LoopEvents) -> LoopOutcome:
        await events.tool_finished("<details>block</details>\n")
        message = {"role": "assistant", "content": "answer"}
        return LoopOutcome({"id": "x"}, message, "stop", {"total_tokens": 3}, 2)

    collector = Collector()
    with anyio.fail_after(10):
        await _stream(run, heartbeat=30)({"type": "http"}, _receive, collector.send)
    events = [
        line[6:] for line in collector.body.decode().split("\n\n") if line.startswith("data: ")
    ]
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    contents = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    assert contents == ["", "<details>block</details>\n", "answer", None]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == {"total_tokens": 3} and chunks[-1]["choices"] == []


@pytest.mark.anyio
async def test_progress_off_still_carries_mcp_calls_when_client_calls_return() -> None:
    block = "<details>mcp call</details>\n"
    client_call = {"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}

    async def run(events: LoopEvents) -> LoopOutcome:
        await events.tool_finished(block)
        message = {"role": "assistant", "content": block + "text", "tool_calls": [client_call]}
        return LoopOutcome({}, message, "tool_calls", {}, 1, [block], [client_call], "text")

    collector = Collector()
    with anyio.fail_after(10):
        await _stream(run, heartbeat=30, progress=False)({"type": "http"}, _receive, collector.send)
    events = [
        line[6:] for line in collector.body.decode().split("\n\n") if line.startswith("data: {")
    ]
    deltas = [orjson.loads(e)["choices"][0]["delta"] for e in events if orjson.loads(e)["choices"]]
    # not streamed as progress, but kept in the content so the next request can rebuild it
    assert [d.get("content") for d in deltas if d.get("content")] == [block + "text"]
    (calls,) = [d["tool_calls"] for d in deltas if "tool_calls" in d]
    assert calls == [{"index": 0, **client_call}]


def _contents(collector: Collector) -> list[dict[str, Any]]:
    events = [
        line[6:] for line in collector.body.decode().split("\n\n") if line.startswith("data: {")
    ]
    return [orjson.loads(e)["choices"][0]["delta"] for e in events if orjson.loads(e)["choices"]]


@pytest.mark.anyio
async def test_streamed_text_goes_out_as_it_comes_and_a_block_starts_a_line() -> None:
    block = "<details>block</details>\n"

    async def run(events: LoopEvents) -> LoopOutcome:
        await events.answer_delta({"reasoning_content": "thinking"})
        await events.answer_delta({"content": "Let me look"})
        await events.tool_finished(block)
        await events.answer_delta({"content": "Found it."})
        message = {"role": "assistant", "content": "Found it."}
        outcome = LoopOutcome({}, message, "stop", {}, 2, [block])
        outcome.streamed = True
        return outcome

    collector = Collector()
    with anyio.fail_after(10):
        await _stream(run, heartbeat=30)({"type": "http"}, _receive, collector.send)
    deltas = _contents(collector)
    assert deltas[1] == {"reasoning_content": "thinking"}
    # Nothing sent twice: the streamed answer is not repeated at the end.
    assert [d.get("content") for d in deltas[2:]] == [
        "Let me look",
        "\n" + block,
        "Found it.",
        None,
    ]


@pytest.mark.anyio
async def test_streamed_mixed_turn_sends_only_the_client_calls_at_the_end() -> None:
    block = "<details>mcp call</details>\n"
    client_call = {"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}

    async def run(events: LoopEvents) -> LoopOutcome:
        await events.answer_delta({"content": "checking\n"})
        await events.tool_finished(block)
        message = {
            "role": "assistant",
            "content": block + "checking\n",
            "tool_calls": [client_call],
        }
        outcome = LoopOutcome(
            {}, message, "tool_calls", {}, 1, [block], [client_call], "checking\n"
        )
        outcome.streamed = True
        return outcome

    collector = Collector()
    with anyio.fail_after(10):
        await _stream(run, heartbeat=30)({"type": "http"}, _receive, collector.send)
    deltas = _contents(collector)
    assert [d.get("content") for d in deltas if d.get("content")] == ["checking\n", block]
    (calls,) = [d["tool_calls"] for d in deltas if "tool_calls" in d]
    assert calls == [{"index": 0, **client_call}]
    assert deltas[-1] == {}
