"""OpenAI <-> Anthropic translation, pure: request shapes, documented response and stream
examples, usage with cache counters, and error classification."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import errors
from gateway.providers.anthropic import classify, messages_url
from gateway.providers.anthropic_request import messages_request
from gateway.providers.anthropic_response import chat_completion
from gateway.providers.anthropic_stream import AnthropicChunks


def request(**body: Any) -> dict[str, Any]:
    return messages_request({"model": "m", **body}, "claude-x", drop_params=False)


def test_defaults_max_tokens_and_hoists_every_system_message() -> None:
    out = request(
        messages=[
            {"role": "system", "content": "one"},
            {"role": "user", "content": "hi"},
            {"role": "developer", "content": [{"type": "text", "text": "two"}]},
        ]
    )
    assert out["max_tokens"] == 4096
    assert out["system"] == [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert (
        request(messages=[{"role": "user", "content": "x"}], max_completion_tokens=7)["max_tokens"]
        == 7
    )


def test_parallel_tool_results_merge_into_one_user_turn_first() -> None:
    out = request(
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {
                        "id": "b",
                        "type": "function",
                        "function": {"name": "g", "arguments": '{"x":1}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "ra"},
            {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "rb"}]},
            {"role": "user", "content": "go on"},
        ]
    )
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "user"]
    assert out["messages"][1]["content"] == [
        {"type": "text", "text": "calling"},
        {"type": "tool_use", "id": "a", "name": "f", "input": {}},
        {"type": "tool_use", "id": "b", "name": "g", "input": {"x": 1}},
    ]
    assert out["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "a", "content": "ra"},
        {"type": "tool_result", "tool_use_id": "b", "content": [{"type": "text", "text": "rb"}]},
        {"type": "text", "text": "go on"},
    ]


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        ({"type": "function", "function": {"name": "f"}}, None, {"type": "tool", "name": "f"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tool_choice(choice: Any, parallel: Any, expected: dict[str, Any]) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "x"}], "tools": [tool]}
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    assert request(**body)["tool_choice"] == expected


def test_unsupported_params_refused_or_dropped() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": 1}
    with pytest.raises(errors.BadRequestError, match="seed"):
        messages_request(body, "c", drop_params=False)
    assert "seed" not in messages_request(body, "c", drop_params=True)


def test_documented_response_with_cache_usage_and_thinking() -> None:
    message = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Let me see.", "signature": "sig"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "SF"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": 100,
            "output_tokens": 20,
        },
    }
    out = chat_completion(message, json_mode=False)
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking."
    assert choice["message"]["reasoning_content"] == "Let me see."
    assert choice["message"]["thinking_blocks"][0]["signature"] == "sig"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"SF"}'},
        }
    ]
    assert out["usage"] == {
        "prompt_tokens": 115,
        "completion_tokens": 20,
        "total_tokens": 135,
        "prompt_tokens_details": {"cached_tokens": 100},
        "cache_creation_input_tokens": 5,  # billed at the cache-write price
    }


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("refusal", "content_filter"),
    ],
)
def test_stop_reasons(stop: str, finish: str) -> None:
    message = {"content": [{"type": "text", "text": "x"}], "stop_reason": stop, "usage": {}}
    assert chat_completion(message, json_mode=False)["choices"][0]["finish_reason"] == finish


def test_stream_events_become_chunks_with_stable_tool_indexes() -> None:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "model": "claude",
                "usage": {"input_tokens": 25, "cache_read_input_tokens": 5},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "hm"},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "s"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": '{"a":'},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": "1}"},
        },
        {"type": "content_block_stop", "index": 2},
        {
            "type": "content_block_start",
            "index": 3,
            "content_block": {"type": "tool_use", "id": "t2", "name": "g", "input": {}},
        },
        {"type": "content_block_stop", "index": 3},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 15},
        },
        {"type": "message_stop"},
    ]
    translator = AnthropicChunks("claude")
    chunks = [chunk for event in events for chunk in translator.feed(event)]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert {"reasoning_content": "hm"} in deltas and {"content": "Hi"} in deltas
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert [(c["index"], c.get("id")) for c in calls] == [
        (0, "t1"),
        (0, None),
        (0, None),
        (1, "t2"),
    ]
    assert "".join(c["function"]["arguments"] for c in calls if c["index"] == 0) == '{"a":1}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 30
    assert chunks[-1]["usage"]["completion_tokens"] == 15
    assert chunks[-1]["usage"]["prompt_tokens_details"] == {"cached_tokens": 5}
    assert len({c["id"] for c in chunks}) == 1 and translator.finished


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        (
            400,
            {
                "type": "invalid_request_error",
                "message": "prompt is too long: 210000 tokens > 200000 maximum",
            },
            errors.ContextWindowExceededError,
        ),
        (
            400,
            {"type": "invalid_request_error", "message": "messages: field required"},
            errors.BadRequestError,
        ),
        (
            529,
            {"type": "overloaded_error", "message": "Overloaded"},
            errors.ServiceUnavailableError,
        ),
        (429, {"type": "rate_limit_error", "message": "slow down"}, errors.RateLimitError),
        (401, {"type": "authentication_error", "message": "bad key"}, errors.AuthenticationError),
        (413, {"type": "request_too_large", "message": "big"}, errors.RequestTooLargeError),
        (500, {"type": "api_error", "message": "oops"}, errors.UpstreamServerError),
    ],
)
def test_classify(status: int, detail: dict[str, Any], expected: type[errors.GatewayError]) -> None:
    assert classify(status, detail) is expected


def test_messages_url_accepts_litellm_style_bases() -> None:
    assert messages_url("https://api.anthropic.com") == "https://api.anthropic.com/v1/messages"
    assert messages_url("https://proxy/v1") == "https://proxy/v1/messages"
    assert messages_url("https://proxy/v1/messages") == "https://proxy/v1/messages"


def test_cache_control_markers_are_kept() -> None:
    marker = {"type": "ephemeral"}
    out = request(
        messages=[
            {
                "role": "system",
                "content": [{"type": "text", "text": "long rules", "cache_control": marker}],
            },
            {"role": "user", "content": "question", "cache_control": marker},
        ]
    )
    assert out["system"] == [{"type": "text", "text": "long rules", "cache_control": marker}]
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "question", "cache_control": marker}
    ]


def test_json_mode_stream_turns_the_forced_tool_into_text() -> None:
    translator = AnthropicChunks("claude", json_mode=True)
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 1}}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "json_tool_call", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"a"'},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": ": 1}"},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 3},
        },
        {"type": "message_stop"},
    ]
    chunks = [c for e in events for c in translator.feed(e)]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == '{"a": 1}'
    assert not any("tool_calls" in c["choices"][0]["delta"] for c in chunks if c["choices"])
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
