"""The inbound Anthropic Messages API, pure: request, response and stream translation, errors
and the token estimate."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import errors
from gateway.anthropic_api.errors import anthropic_error
from gateway.anthropic_api.request import chat_request, untranslatable
from gateway.anthropic_api.response import anthropic_message
from gateway.anthropic_api.stream import AnthropicEvents


def test_request_tool_results_come_before_the_rest_of_the_turn() -> None:
    out = chat_request(
        {
            "model": "m",
            "max_tokens": 10,
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "let me check"},
                        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "and then?"},
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "content": [{"type": "text", "text": "boom"}],
                            "is_error": True,
                        },
                    ],
                },
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
            "tools": [{"name": "f", "input_schema": {"type": "object"}}],
            "metadata": {"user_id": "u1"},
            "stream": True,
        }
    )
    assert out["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "let me check",
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "Error: boom"},
        {"role": "user", "content": "and then?"},
    ]
    assert out["tool_choice"] == "required" and out["parallel_tool_calls"] is False
    assert out["user"] == "u1" and out["stream_options"] == {"include_usage": True}


def test_server_tools_and_documents_are_named_as_untranslatable() -> None:
    native = {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "d"},
                    },
                    {"type": "text", "text": "q"},
                ],
            }
        ],
        "tools": [
            {"type": "web_search_20250305", "name": "web_search"},
            {"name": "f", "input_schema": {}},
        ],
    }
    out = chat_request(native)
    assert [t["function"]["name"] for t in out["tools"]] == ["f"]
    assert out["messages"] == [{"role": "user", "content": "q"}]
    assert untranslatable(native) == [
        "'document' content blocks",
        "server tool 'web_search_20250305'",
    ]
    assert untranslatable({"messages": [{"role": "user", "content": "q"}]}) == []


def test_response_translation_keeps_cached_tokens_apart() -> None:
    completion = {
        "id": "chatcmpl-1",
        "model": "gpt-x",
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": "hi",
                    "reasoning_content": "thought",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"x":1}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 40},
        },
    }
    message = anthropic_message(completion, "group")
    assert message["content"] == [
        {"type": "thinking", "thinking": "thought", "signature": ""},
        {"type": "text", "text": "hi"},
        {"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 1}},
    ]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == {
        "input_tokens": 60,
        "output_tokens": 5,
        "cache_read_input_tokens": 40,
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def test_stream_translation_opens_and_closes_blocks_in_order() -> None:
    translator = AnthropicEvents("m")
    chunks = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"reasoning_content": "hmm"}),
        _chunk({"content": "Hel"}),
        _chunk({"content": "lo"}),
        _chunk(
            {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]}
        ),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        _chunk(
            {"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}]}
        ),
        _chunk({}, "tool_calls"),
        {"id": "c", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
    ]
    events = [e for c in chunks for e in translator.feed(c)] + list(translator.close())
    kinds = [(e["type"], e.get("index")) for e in events]
    assert kinds == [
        ("message_start", None),
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("content_block_start", 2),
        ("content_block_delta", 2),
        ("content_block_stop", 2),
        ("content_block_start", 3),
        ("content_block_delta", 3),
        ("content_block_stop", 3),
        ("message_delta", None),
        ("message_stop", None),
    ]
    assert events[1]["content_block"]["type"] == "thinking"
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"] == {"input_tokens": 9, "output_tokens": 4}


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (errors.RateLimitError("x"), "rate_limit_error"),
        (errors.ServiceUnavailableError("x"), "overloaded_error"),
        (errors.ContextWindowExceededError("x"), "invalid_request_error"),
        (errors.AuthenticationError("x"), "authentication_error"),
        (errors.NotFoundError("x"), "not_found_error"),
        (errors.BadGatewayError("x"), "api_error"),
    ],
)
def test_error_shape(error: errors.GatewayError, kind: str) -> None:
    assert anthropic_error(error) == {"type": "error", "error": {"type": kind, "message": "x"}}
