"""OpenAI <-> Cohere Chat v2 translation, pure: messages, tools, sampling names, replies,
usage, finish reasons and stream events."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway import errors
from gateway.providers.cohere import chat_url
from gateway.providers.cohere_request import chat_request
from gateway.providers.cohere_response import CohereChunks, chat_completion

WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME: Any = {"type": "function", "function": {"name": "get_time"}}


def test_a_tool_round_trip_history_keeps_ids_and_roles() -> None:
    body: Any = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        ],
        "tools": [WEATHER, TIME],
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 40,
        "stop": "END",
        "max_completion_tokens": 64,
        "user": "end-user-1",
    }
    out = chat_request(body, "command-r-plus", drop_params=False)
    assert out["model"] == "command-r-plus"
    assert out["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        {
            "role": "assistant",
            "tool_plan": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    ]
    assert out["tools"][1] == {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    }
    assert (out["temperature"], out["p"], out["k"]) == (0.3, 0.9, 40)
    assert (out["stop_sequences"], out["max_tokens"]) == (["END"], 64)
    assert "user" not in out and "tool_choice" not in out


@pytest.mark.parametrize(
    ("choice", "expected", "tool_names"),
    [
        ("required", "REQUIRED", ["get_weather", "get_time"]),
        ("none", "NONE", ["get_weather", "get_time"]),
        ({"type": "function", "function": {"name": "get_time"}}, "REQUIRED", ["get_time"]),
    ],
)
def test_tool_choice(choice: Any, expected: str, tool_names: list[str]) -> None:
    body: Any = {"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER, TIME]}
    out = chat_request({**body, "tool_choice": choice}, "command-r", drop_params=False)
    assert out["tool_choice"] == expected
    assert [t["function"]["name"] for t in out["tools"]] == tool_names


def test_json_schema_response_format_and_refusals() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body: Any = {
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
    }
    out = chat_request(body, "command-r", drop_params=False)
    assert out["response_format"] == {"type": "json_object", "json_schema": schema}
    with pytest.raises(errors.BadRequestError, match="logprobs"):
        chat_request({**body, "logprobs": True}, "command-r", drop_params=False)
    assert "logprobs" not in chat_request({**body, "logprobs": True}, "c", drop_params=True)
    with pytest.raises(errors.BadRequestError, match="n=1"):
        chat_request({**body, "n": 2}, "command-r", drop_params=False)
    with pytest.raises(errors.BadRequestError, match="not among the tools"):
        chat_request(
            {**body, "tools": [WEATHER], "tool_choice": {"function": {"name": "nope"}}},
            "command-r",
            drop_params=False,
        )


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://api.cohere.com", "https://api.cohere.com/v2/chat"),
        ("https://proxy/v2", "https://proxy/v2/chat"),
        ("https://proxy/v2/chat", "https://proxy/v2/chat"),
    ],
)
def test_chat_url(base: str, url: str) -> None:
    assert chat_url(base) == url


def test_reply_with_tool_calls_usage_and_plan() -> None:
    response = {
        "id": "abc",
        "finish_reason": "TOOL_CALL",
        "message": {
            "role": "assistant",
            "tool_plan": "I will check the weather.",
            "tool_calls": [
                {
                    "id": "get_weather_x1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        "usage": {
            "billed_units": {"input_tokens": 5, "output_tokens": 7},
            "tokens": {"input_tokens": 120.0, "output_tokens": 30},
            "cached_tokens": 100,
        },
    }
    out = chat_completion(response, "command-r-plus")
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"].get("reasoning_content") == "I will check the weather."
    assert choice["message"].get("tool_calls") == [
        {
            "id": "get_weather_x1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]
    assert out.get("usage") == {
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 100},
    }
    assert (out["id"], out["model"]) == ("abc", "command-r-plus")


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("complete", "stop"),
    ],
)
def test_finish_reasons(reason: str, finish: str) -> None:
    response = {"message": {"content": [{"type": "text", "text": "hi"}]}, "finish_reason": reason}
    out = chat_completion(response, "command-r")
    assert out["choices"][0]["finish_reason"] == finish
    assert out["choices"][0]["message"]["content"] == "hi"


def test_a_failed_generation_is_an_upstream_error_not_an_empty_answer() -> None:
    with pytest.raises(errors.BadGatewayError, match="generation failed"):
        chat_completion({"message": {}, "finish_reason": "ERROR"}, "command-r")
    with pytest.raises(errors.RequestTimeoutError):
        chat_completion({"message": {}, "finish_reason": "TIMEOUT"}, "command-r")


def _events(*events: dict[str, Any]) -> list[dict[str, Any]]:
    chunks = CohereChunks("command-r")
    return [dict(chunk) for event in events for chunk in chunks.feed(event)]


def test_stream_of_a_tool_call() -> None:
    chunks = _events(
        {"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant"}}},
        {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}},
        {
            "type": "tool-call-start",
            "index": 0,
            "delta": {
                "message": {
                    "tool_calls": {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                }
            },
        },
        {
            "type": "tool-call-delta",
            "index": 0,
            "delta": {"message": {"tool_calls": {"function": {"arguments": '{"city":'}}}},
        },
        {
            "type": "tool-call-delta",
            "index": 0,
            "delta": {"message": {"tool_calls": {"function": {"arguments": '"Paris"}'}}}},
        },
        {"type": "tool-call-end", "index": 0},
        {
            "type": "message-end",
            "delta": {
                "finish_reason": "TOOL_CALL",
                "usage": {"tokens": {"input_tokens": 10, "output_tokens": 4}},
            },
        },
    )
    assert {c["id"] for c in chunks} == {"m1"}
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"reasoning_content": "I will"}
    assert deltas[2]["tool_calls"][0]["id"] == "t1"
    arguments = "".join(
        d["tool_calls"][0]["function"]["arguments"] for d in deltas if "tool_calls" in d
    )
    assert orjson.loads(arguments) == {"city": "Paris"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["total_tokens"] == 14


def test_stream_error_at_the_end_is_raised() -> None:
    with pytest.raises(errors.BadGatewayError, match="overloaded"):
        _events(
            {"type": "message-start", "id": "m1"},
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "a"}}}},
            {"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "overloaded"}},
        )
