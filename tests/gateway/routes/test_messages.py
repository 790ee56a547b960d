"""`/v1/messages` with the official `anthropic` SDK against a real gateway process, for an
`openai/` backend (translated both ways) and an `anthropic/` backend (passed straight through)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from tests.gateway.providers.stack import MASTER_KEY, PNG_DATA_URL, Stack, running_stack

BACKENDS = ("openai", "anthropic", "gemini")
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(scope="module")
def stack(service_log_dir: Path) -> Iterator[Stack]:
    with running_stack(service_log_dir) as running:
        yield running


@pytest.fixture(scope="module")
def claude(stack: Stack) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=stack.gateway_url, api_key=MASTER_KEY, max_retries=0) as c:
        yield c


@pytest.mark.parametrize("backend", BACKENDS)
def test_plain_message(backend: str, claude: anthropic.Anthropic, stack: Stack) -> None:
    message = claude.messages.create(
        model=f"{backend}-echo",
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "hello there"}],
        stop_sequences=["END"],
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
    )
    assert message.type == "message" and message.role == "assistant"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "hello there"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0

    got = stack.received("echo")
    body = got["body"]
    if backend == "anthropic":
        assert got["headers"]["anthropic-beta"] == "prompt-caching-2024-07-31"
        # Passed through: the client's own body, only the model name replaced.
        assert body == {
            "model": "echo",
            "max_tokens": 100,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "hello there"}],
            "stop_sequences": ["END"],
        }
    elif backend == "openai":
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there"},
        ]
        assert (body["max_tokens"], body["stop"]) == (100, ["END"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_streaming_message(backend: str, claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=f"{backend}-echo",
        max_tokens=100,
        messages=[{"role": "user", "content": "one two three"}],
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start"
    assert "content_block_delta" in events and events[-1] == "message_stop"
    assert final.content[0].text == "one two three"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_tool_use_round_trip(backend: str, claude: anthropic.Anthropic, stack: Stack) -> None:
    first = claude.messages.create(
        model=f"{backend}-parallel-tool-calls",
        max_tokens=100,
        tools=[WEATHER, {**WEATHER, "name": "get_time"}],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "weather and time?"}],
    )
    assert first.stop_reason == "tool_use"
    uses = [b for b in first.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather", "get_time"]

    second = claude.messages.create(
        model=f"{backend}-echo",
        max_tokens=100,
        tools=[WEATHER, {**WEATHER, "name": "get_time"}],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "weather and time?"},
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": uses[0].id, "content": "18C"},
                    {"type": "tool_result", "tool_use_id": uses[1].id, "content": "noon"},
                    {"type": "text", "text": "summarise"},
                ],
            },
        ],
    )
    assert second.content[0].text == "summarise"  # type: ignore[union-attr]
    body = stack.received("echo")["body"]
    if backend == "openai":
        assert [m["role"] for m in body["messages"]] == [
            "user",
            "assistant",
            "tool",
            "tool",
            "user",
        ]
        assert body["messages"][2] == {"role": "tool", "tool_call_id": uses[0].id, "content": "18C"}
        assert body["tools"][0]["function"]["parameters"] == WEATHER["input_schema"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_streaming_tool_use(backend: str, claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=f"{backend}-tool-call",
        max_tokens=100,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "weather?"}],
    ) as stream:
        final = stream.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    assert len(uses) == 1 and uses[0].name == "get_weather" and uses[0].input == {}
    assert final.stop_reason == "tool_use"


def test_image_and_thinking_translate_for_other_backends(
    claude: anthropic.Anthropic, stack: Stack
) -> None:
    data = PNG_DATA_URL.split(",", 1)[1]
    message = claude.messages.create(
        model="gemini-echo",
        max_tokens=4000,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": data},
                    },
                    {"type": "text", "text": "describe"},
                ],
            }
        ],
    )
    assert [b.type for b in message.content] == ["thinking", "text"]
    contents = stack.received("echo")["body"]["contents"]
    assert contents[0]["parts"][0] == {"inlineData": {"mimeType": "image/png", "data": data}}


@pytest.mark.parametrize("backend", BACKENDS)
def test_errors_in_anthropic_shape(backend: str, claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as raised:
        claude.messages.create(
            model=f"{backend}-error-429",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
        )
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": raised.value.body["error"]["message"]},  # type: ignore[index]
    }
    assert raised.value.response.headers["retry-after"] == "1"
    with pytest.raises(anthropic.RateLimitError):
        claude.messages.create(
            model=f"{backend}-error-429",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_cut_off_midway_ends_with_an_error_event(
    backend: str, claude: anthropic.Anthropic
) -> None:
    with (
        pytest.raises(anthropic.APIStatusError) as raised,
        claude.messages.stream(
            model=f"{backend}-disconnect",
            max_tokens=100,
            messages=[{"role": "user", "content": "a long enough prompt to stream"}],
        ) as stream,
    ):
        for _ in stream:
            pass
    assert raised.value.body["type"] == "error"  # type: ignore[index]


def test_unknown_model_and_bad_key(stack: Stack, claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        claude.messages.create(
            model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    bad = anthropic.Anthropic(base_url=stack.gateway_url, api_key="wrong", max_retries=0)
    with bad, pytest.raises(anthropic.AuthenticationError) as denied:
        bad.messages.create(
            model="openai-echo", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert denied.value.body["type"] == "error"  # type: ignore[index]


def test_count_tokens(claude: anthropic.Anthropic, stack: Stack) -> None:
    short = claude.messages.count_tokens(
        model="openai-echo", messages=[{"role": "user", "content": "hi"}]
    )
    long = claude.messages.count_tokens(
        model="openai-echo",
        system="You are a careful assistant. " * 10,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "word " * 400}],
    )
    assert 0 < short.input_tokens < long.input_tokens
    assert 400 <= long.input_tokens <= 1000  # ~2000 chars of text, 300 of system, 1 tool
    response = httpx.post(
        f"{stack.gateway_url}/v1/messages/count_tokens",
        headers={"x-api-key": MASTER_KEY},
        json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "error"


def test_server_tools_pass_through_to_anthropic_only(
    claude: anthropic.Anthropic, stack: Stack
) -> None:
    tools: Any = [WEATHER, {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}]
    message = claude.messages.create(
        model="anthropic-echo",
        max_tokens=50,
        tools=tools,
        messages=[{"role": "user", "content": "search"}],
    )
    assert message.content[0].text == "search"  # type: ignore[union-attr]
    assert stack.received("echo")["body"]["tools"] == tools
    with pytest.raises(anthropic.BadRequestError) as raised:
        claude.messages.create(
            model="openai-echo",
            max_tokens=50,
            tools=tools,
            messages=[{"role": "user", "content": "search"}],
        )
    assert "web_search_20250305" in raised.value.body["error"]["message"]  # type: ignore[index]


def test_fields_only_anthropic_knows_need_an_anthropic_backend_or_drop_params(
    claude: anthropic.Anthropic, stack: Stack
) -> None:
    extra: Any = {"service_tier": "auto"}
    message = claude.messages.create(
        model="anthropic-echo",
        max_tokens=50,
        messages=[{"role": "user", "content": "keep it"}],
        extra_body=extra,
    )
    assert message.content[0].text == "keep it"  # type: ignore[union-attr]
    assert stack.received("echo")["body"]["service_tier"] == "auto"
    # This stack runs with drop_params: false, so a chat backend refuses the field by name.
    with pytest.raises(anthropic.BadRequestError) as raised:
        claude.messages.create(
            model="openai-echo",
            max_tokens=50,
            messages=[{"role": "user", "content": "keep it"}],
            extra_body=extra,
        )
    assert "service_tier" in raised.value.body["error"]["message"]  # type: ignore[index]


@pytest.mark.parametrize("backend", BACKENDS)
def test_system_role_messages_and_effort(
    backend: str, claude: anthropic.Anthropic, stack: Stack
) -> None:
    messages: Any = [
        {"role": "user", "content": "hello"},
        {"role": "system", "content": "Environment: tests"},
    ]
    message = claude.messages.create(
        model=f"{backend}-echo",
        max_tokens=2000,
        system="Be brief.",
        messages=messages,
        extra_body={"output_config": {"effort": "low"}, "thinking": {"type": "adaptive"}},
    )
    assert any(b.type == "text" and b.text == "hello" for b in message.content)
    body = stack.received("echo")["body"]
    if backend == "openai":
        assert body["messages"][0] == {
            "role": "system",
            "content": "Be brief.\n\nEnvironment: tests",
        }
        assert body["reasoning_effort"] == "low"
    elif backend == "anthropic":
        assert body["system"] == [
            {"type": "text", "text": "Be brief."},
            {"type": "text", "text": "Environment: tests"},
        ]
        assert body["output_config"] == {"effort": "low"}
    else:
        assert body["systemInstruction"]["parts"][0]["text"].endswith("Environment: tests")
        assert body["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 1024


def test_malformed_effort_is_a_400(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        claude.messages.create(
            model="openai-echo",
            max_tokens=50,
            messages=[{"role": "user", "content": "x"}],
            extra_body={"output_config": {"effort": "extreme"}},
        )
    assert "output_config.effort" in raised.value.body["error"]["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("backend", "method"),
    [("anthropic", "anthropic_api"), ("gemini", "gemini_api"), ("openai", "estimate")],
)
def test_count_tokens_asks_the_provider_where_it_can(
    backend: str, method: str, claude: anthropic.Anthropic, stack: Stack
) -> None:
    raw = claude.messages.with_raw_response.count_tokens(
        model=f"{backend}-echo",
        system="Be brief.",
        messages=[{"role": "user", "content": "count these words please"}],
    )
    assert raw.headers["x-toolrelay-token-count"] == method
    counted = raw.parse()
    assert counted.input_tokens > 0
    body = raw.http_response.json()
    # The fake upstream's model names (`echo`) have no known tokenizer: only that is an estimate.
    assert body.get("estimated", False) is (method == "estimate")
    if backend == "anthropic":
        got = stack.received("echo")
        assert got["path"] == "/v1/messages/count_tokens"
        assert "max_tokens" not in got["body"]
    elif backend == "gemini":
        assert stack.received("echo")["path"].endswith("/models/echo:countTokens")
