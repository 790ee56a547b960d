"""Chat completions through the official OpenAI SDK: text, echo, size, streaming, tool calls."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from testing.fake_upstream import FIXED_TEXT
from tests.support.processes import ServiceProcess

USER = [{"role": "user", "content": "What is the answer?"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "execute_sql", "parameters": {"type": "object", "properties": {}}},
    },
    {
        "type": "function",
        "function": {"name": "fetch_url", "parameters": {"type": "object", "properties": {}}},
    },
    {"type": "function", "function": {"name": "never_called", "parameters": {"type": "object"}}},
]


def test_unknown_model_answers_fixed_text_with_usage(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == FIXED_TEXT
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == len("What is the answer?") // 4 + 1
    assert completion.usage.completion_tokens == (len(FIXED_TEXT) + 3) // 4
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_echo_repeats_last_user_message(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="echo",
        messages=[
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "second, as parts"}]},
        ],
    )

    assert completion.choices[0].message.content == "second, as parts"


def test_tool_result_model_answers_with_the_newest_tool_result(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="tool-result",
        messages=[
            {"role": "user", "content": "look it up"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "older result"},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "row 42"}]},
        ],
    )
    assert completion.choices[0].message.content == "row 42"
    answer = client.chat.completions.create(model="tool-result", messages=USER)
    assert answer.choices[0].message.content == FIXED_TEXT  # no tool result yet


@pytest.mark.parametrize("size", [1, 200, 10_000])
def test_size_model_replies_with_that_many_bytes(client: OpenAI, size: int) -> None:
    completion = client.chat.completions.create(model=f"size-{size}", messages=USER)

    content = completion.choices[0].message.content
    assert content is not None
    assert len(content.encode()) == size


def test_paths_work_without_v1_prefix(upstream: ServiceProcess) -> None:
    with OpenAI(base_url=upstream.url, api_key="test", max_retries=0) as bare:
        completion = bare.chat.completions.create(model="echo", messages=USER)

    assert completion.choices[0].message.content == "What is the answer?"


def test_combined_tokens_apply_together(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="echo+latency-10", messages=USER)

    assert completion.choices[0].message.content == "What is the answer?"


def test_stream_yields_chunks_and_final_usage_chunk(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks[1:-2]]
    assert pieces == ["one ", "two ", "three"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-2].usage is None
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == (len("one two three") + 3) // 4


def test_stream_without_include_usage_has_no_usage_chunk(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="fixed", messages=USER, stream=True))

    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == FIXED_TEXT


def test_stream_is_raw_sse_ending_with_done(control: httpx.Client) -> None:
    body = {"model": "echo", "messages": USER, "stream": True}
    with control.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]

    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    first = json.loads(lines[0].removeprefix("data: "))
    assert set(first) >= {"id", "object", "created", "model", "choices"}
    assert first["choices"][0]["finish_reason"] is None


def _request_record(control: httpx.Client, model: str) -> dict[str, object]:
    records = control.get("/__fake__/requests", params={"model": model}).json()["data"]
    assert len(records) == 1
    record: dict[str, object] = records[0]
    return record


def test_slow_stream_delivers_first_chunk_before_the_stream_finishes(
    client: OpenAI, control: httpx.Client
) -> None:
    model = "echo+slow-stream-300+sync-incremental"
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "alpha beta"}], stream=True
    )
    seen: list[str] = []
    for chunk in stream:
        if not seen:
            # The fake marks a response complete only after its last byte: while we hold the
            # first chunk, the server must still be in the middle of the stream.
            record = _request_record(control, model)
            assert record["status"] == 200
            assert record["completed"] is False
        seen.append(chunk.choices[0].delta.content or "")

    assert seen == ["", "alpha ", "beta", ""]
    assert _request_record(control, model)["completed"] is True


@pytest.mark.anyio
async def test_async_slow_stream_is_incremental(
    async_client: AsyncOpenAI, upstream: ServiceProcess
) -> None:
    model = "echo+slow-stream-300+async-incremental"
    first_chunk = anyio.Event()
    order: list[str] = []

    async def consume() -> None:
        stream = await async_client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "gamma delta"}], stream=True
        )
        async for chunk in stream:
            if not first_chunk.is_set():
                first_chunk.set()
            order.append(chunk.choices[0].delta.content or "")
        order.append("end")

    async def observe() -> None:
        await first_chunk.wait()
        async with httpx.AsyncClient(base_url=upstream.url) as http:
            response = await http.get("/__fake__/requests", params={"model": model})
        records = response.json()["data"]
        order.append(f"observed completed={records[0]['completed']}")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            group.start_soon(observe)

    assert order.index("observed completed=False") < order.index("end")
    assert [p for p in order if not p.startswith("observed")] == ["", "gamma ", "delta", "", "end"]


def test_tool_call_calls_first_tool_with_empty_arguments(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="tool-call", messages=USER, tools=TOOLS)

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [(c.type, c.function.name, c.function.arguments) for c in calls] == [
        ("function", "execute_sql", "{}")
    ]
    assert calls[0].id.startswith("call_")


def test_parallel_tool_calls_call_the_first_two_tools(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="parallel-tool-calls", messages=USER, tools=TOOLS
    )

    calls = completion.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["execute_sql", "fetch_url"]
    assert len({c.id for c in calls}) == 2


def test_tool_call_model_without_tools_answers_in_text(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="tool-call", messages=USER)

    assert completion.choices[0].message.content == FIXED_TEXT
    assert completion.choices[0].finish_reason == "stop"


def test_streamed_parallel_tool_calls_arrive_as_indexed_deltas(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="parallel-tool-calls", messages=USER, tools=TOOLS, stream=True
        )
    )

    calls: dict[int, dict[str, str]] = {}
    argument_deltas: dict[int, int] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id:
                assert call["id"] == "", "the id is sent once, on the call's first delta"
                call["id"] = delta.id
            if delta.function and delta.function.name:
                call["name"] = delta.function.name
            if delta.function and delta.function.arguments:
                call["arguments"] += delta.function.arguments
                argument_deltas[delta.index] = argument_deltas.get(delta.index, 0) + 1

    assert [calls[i]["name"] for i in sorted(calls)] == ["execute_sql", "fetch_url"]
    assert all(call["id"].startswith("call_") for call in calls.values())
    assert all(call["arguments"] == "{}" for call in calls.values())
    assert all(count >= 2 for count in argument_deltas.values())
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.anyio
async def test_async_client_gets_text_and_tool_calls(async_client: AsyncOpenAI) -> None:
    text = await async_client.chat.completions.create(model="fixed", messages=USER)
    tool = await async_client.chat.completions.create(model="tool-call", messages=USER, tools=TOOLS)

    assert text.choices[0].message.content == FIXED_TEXT
    assert (tool.choices[0].message.tool_calls or [])[0].function.name == "execute_sql"


def test_sized_stream_reassembles_to_the_size(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="size-300", messages=USER, stream=True))

    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(text.encode()) == 300
    assert len(chunks) > 10  # word-sized pieces, not one blob
