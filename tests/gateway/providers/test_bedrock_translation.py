"""OpenAI <-> Bedrock Converse translation, pure: request shapes, documented response and
stream event shapes, usage with cache counters, and error classification."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import errors
from gateway.providers.bedrock import _error_name, classify, model_id
from gateway.providers.bedrock_request import converse_request
from gateway.providers.bedrock_response import chat_completion
from gateway.providers.bedrock_stream import BedrockChunks
from tests.gateway.providers.stack import PNG_DATA_URL

CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def request(model: str = CLAUDE, **body: Any) -> dict[str, Any]:
    return converse_request({"model": "m", **body}, model, drop_params=False)


def call(id: str, name: str, arguments: str = "{}") -> dict[str, Any]:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_system_messages_and_sampling() -> None:
    out = request(
        messages=[
            {"role": "system", "content": "one"},
            {"role": "user", "content": "hi"},
            {"role": "developer", "content": [{"type": "text", "text": "two"}]},
        ],
        max_tokens=50,
        temperature=0.2,
        top_p=0.9,
        stop="END",
        top_k=5,
    )
    assert out["system"] == [{"text": "one"}, {"text": "two"}]
    assert out["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]
    assert out["inferenceConfig"] == {
        "maxTokens": 50,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["END"],
    }
    assert out["additionalModelRequestFields"] == {"top_k": 5}
    assert "toolConfig" not in out


def test_tool_calls_and_results_alternate_roles() -> None:
    out = request(
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [call("a", "f"), call("b", "g", '{"x":1}')],
            },
            {"role": "tool", "tool_call_id": "a", "content": "ra"},
            {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "rb"}]},
            {"role": "user", "content": "go on"},
        ],
        tools=[{"type": "function", "function": {"name": "f", "description": "F"}}],
        tool_choice="required",
    )
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "user"]
    assert out["messages"][1]["content"] == [
        {"text": "calling"},
        {"toolUse": {"toolUseId": "a", "name": "f", "input": {}}},
        {"toolUse": {"toolUseId": "b", "name": "g", "input": {"x": 1}}},
    ]
    assert out["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "a", "content": [{"text": "ra"}]}},
        {"toolResult": {"toolUseId": "b", "content": [{"text": "rb"}]}},
        {"text": "go on"},
    ]
    assert out["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "f",
                    "inputSchema": {"json": {"type": "object", "properties": {}}},
                    "description": "F",
                }
            }
        ],
        "toolChoice": {"any": {}},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"auto": {}}),
        ("required", {"any": {}}),
        ({"type": "function", "function": {"name": "f"}}, {"tool": {"name": "f"}}),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    out = request(messages=[{"role": "user", "content": "q"}], tools=tools, tool_choice=choice)
    assert out["toolConfig"]["toolChoice"] == expected


def test_tool_choice_none_leaves_tools_out_unless_the_history_uses_them() -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    plain = request(messages=[{"role": "user", "content": "q"}], tools=tools, tool_choice="none")
    assert "toolConfig" not in plain
    history = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [call("a", "f")]},
        {"role": "tool", "tool_call_id": "a", "content": ""},
    ]
    used = request(messages=history, tools=tools, tool_choice="none")
    assert "toolChoice" not in used["toolConfig"] and used["toolConfig"]["tools"]
    # an empty tool result still answers the call
    assert used["messages"][2]["content"][0]["toolResult"]["content"] == [{"text": ""}]


def test_images_inline_and_from_s3() -> None:
    out = request(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": PNG_DATA_URL}},
                    {"type": "image_url", "image_url": {"url": "s3://bucket/cat.jpg"}},
                ],
            }
        ]
    )
    content = out["messages"][0]["content"]
    assert content[1]["image"]["format"] == "png"
    assert content[1]["image"]["source"]["bytes"] == PNG_DATA_URL.split(",", 1)[1]
    assert content[2] == {
        "image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/cat.jpg"}}}
    }
    with pytest.raises(errors.BadRequestError, match="png, jpeg, gif or webp"):
        request(
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": "data:image/bmp;base64,AA=="}],
                }
            ]
        )


def test_reasoning_effort_is_claude_thinking_only() -> None:
    messages = [{"role": "user", "content": "q"}]
    claude = request(CLAUDE, messages=messages, reasoning_effort="medium", max_tokens=100)
    assert claude["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert claude["inferenceConfig"]["maxTokens"] == 2048 + 1024
    nova = request("amazon.nova-pro-v1:0", messages=messages, reasoning_effort="medium")
    assert "additionalModelRequestFields" not in nova


def test_unsupported_params_refused_or_dropped() -> None:
    body: Any = {"model": "m", "messages": [{"role": "user", "content": "q"}], "logprobs": True}
    with pytest.raises(errors.BadRequestError, match="logprobs"):
        converse_request(body, CLAUDE, drop_params=False)
    assert "logprobs" not in str(converse_request(body, CLAUDE, drop_params=True))


def test_json_mode_is_a_forced_tool_turned_back_into_text() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    out = request(
        messages=[{"role": "user", "content": "q"}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    assert out["toolConfig"]["toolChoice"] == {"tool": {"name": "json_tool_call"}}
    assert out["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {"json": schema}
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": "t", "name": "json_tool_call", "input": {"a": 1}}}
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
    }
    answer = chat_completion(response, CLAUDE, json_mode=True)
    assert answer["choices"][0]["message"]["content"] == '{"a":1}'
    assert answer["choices"][0]["finish_reason"] == "stop"


def test_documented_response_with_tools_reasoning_and_cache_usage() -> None:
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
                    {"text": "Let me check."},
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    },
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 10,
            "outputTokens": 5,
            "totalTokens": 45,
            "cacheReadInputTokens": 20,
            "cacheWriteInputTokens": 10,
        },
        "metrics": {"latencyMs": 120},
    }
    answer = chat_completion(response, CLAUDE, json_mode=False)
    message = answer["choices"][0]["message"]
    assert message["content"] == "Let me check."
    assert message.get("reasoning_content") == "hmm"
    assert message.get("tool_calls") == [
        {
            "id": "tooluse_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert answer["model"] == CLAUDE
    assert answer.get("usage") == {
        "prompt_tokens": 40,
        "completion_tokens": 5,
        "total_tokens": 45,
        "prompt_tokens_details": {"cached_tokens": 20},
        "cache_creation_input_tokens": 10,
    }


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ],
)
def test_stop_reasons(stop: str, finish: str) -> None:
    response = {"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}}}
    answer = chat_completion({**response, "stopReason": stop}, CLAUDE, json_mode=False)
    assert answer["choices"][0]["finish_reason"] == finish


def test_stream_events_become_chunks_with_stable_tool_indexes() -> None:
    chunks = BedrockChunks(CLAUDE)
    events: list[tuple[str, dict[str, Any]]] = [
        ("messageStart", {"role": "assistant", "p": "abc"}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "r"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "s"}}}),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Hel"}}),
        ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "lo"}}),
        ("contentBlockStop", {"contentBlockIndex": 1}),
        ("contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"a"'}}}),
        ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": ":1}"}}}),
        ("contentBlockStop", {"contentBlockIndex": 2}),
        ("contentBlockStart", {"contentBlockIndex": 3, "start": {"toolUse": {"toolUseId": "t2", "name": "g"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{}"}}}),
        ("messageStop", {"stopReason": "tool_use"}),
        ("metadata", {"usage": {"inputTokens": 7, "outputTokens": 9, "totalTokens": 16}, "metrics": {"latencyMs": 1}}),
    ]  # fmt: skip
    out = [chunk for kind, event in events for chunk in chunks.feed(kind, event)]
    deltas = [c["choices"][0]["delta"] for c in out if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"reasoning_content": "r"}
    assert [d.get("content") for d in deltas[2:4]] == ["Hel", "lo"]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert [(c["index"], c.get("id")) for c in calls] == [
        (0, "t1"),
        (0, None),
        (0, None),
        (1, "t2"),
        (1, None),
    ]
    assert "".join(c["function"]["arguments"] for c in calls if c["index"] == 0) == '{"a":1}'
    assert out[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert out[-1]["choices"] == []
    assert out[-1].get("usage") == {"prompt_tokens": 7, "completion_tokens": 9, "total_tokens": 16}
    assert chunks.finished
    assert len({c["id"] for c in out}) == 1


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        (403, {"__type": "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/", "message": "The security token included in the request is invalid."}, errors.AuthenticationError),
        (403, {"__type": "InvalidSignatureException", "message": "signature"}, errors.AuthenticationError),
        (403, {"__type": "AccessDeniedException", "message": "no model access"}, errors.PermissionDeniedError),
        (429, {"__type": "ThrottlingException", "message": "Too many requests"}, errors.RateLimitError),
        (400, {"__type": "ValidationException", "message": "bad"}, errors.BadRequestError),
        (400, {"__type": "ValidationException", "message": "Input is too long for requested model."}, errors.ContextWindowExceededError),
        (424, {"__type": "com.amazon.bedrock#ModelErrorException", "message": "x"}, errors.BadGatewayError),
        (400, {"__type": "validationException", "message": "x"}, errors.BadRequestError),
        (503, {"__type": "ServiceUnavailableException", "message": "x"}, errors.ServiceUnavailableError),
    ],
)  # fmt: skip
def test_classify(status: int, detail: dict[str, Any], expected: type[errors.GatewayError]) -> None:
    assert classify(status, detail) is expected


def test_error_names_and_model_ids() -> None:
    assert _error_name("throttlingException") == "ThrottlingException"
    assert model_id("converse/amazon.nova-lite-v1:0") == "amazon.nova-lite-v1:0"
    assert model_id("invoke/meta.llama3-1-70b-instruct-v1:0") == "meta.llama3-1-70b-instruct-v1:0"
    assert classify(400, {"message": "no type"}) is None
