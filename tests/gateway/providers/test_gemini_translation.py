"""OpenAI <-> Gemini translation, pure: the schema subset, ids, usage, blocked prompts, errors."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import errors
from gateway.providers.gemini import classify
from gateway.providers.gemini_request import generate_request
from gateway.providers.gemini_response import GeminiChunks, chat_completion
from gateway.providers.gemini_schema import gemini_schema


def test_schema_is_reduced_to_the_accepted_subset() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "$defs": {"Unit": {"type": "string", "enum": ["C", "F"]}},
        "properties": {
            "unit": {"$ref": "#/$defs/Unit"},
            "note": {"type": ["string", "null"], "examples": ["x"]},
            "mode": {"const": "fast"},
            "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            "both": {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}]},
        },
        "required": ["unit"],
    }
    assert gemini_schema(schema) == {
        "type": "object",
        "properties": {
            "unit": {"type": "string", "enum": ["C", "F"]},
            "note": {"type": "string", "nullable": True},
            "mode": {"enum": ["fast"]},
            "tags": {"type": "array", "items": {"type": "string", "nullable": True}},
            "both": {"type": "object", "properties": {"a": {"type": "integer"}}},
        },
        "required": ["unit"],
    }


def test_recursive_ref_is_a_clear_error() -> None:
    schema = {
        "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}},
        "$ref": "#/$defs/N",
    }
    with pytest.raises(errors.BadRequestError, match="recursive"):
        gemini_schema(schema)


def test_turns_alternate_and_tool_results_are_named() -> None:
    out = generate_request(
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "user", "content": "b"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"x": 1}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": '{"ok": true}'},
            ],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
        },
        drop_params=False,
    )
    assert out["contents"] == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"x": 1}, "id": "c1"}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "f", "response": {"ok": True}, "id": "c1"}}],
        },
    ]
    assert out["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}
    }


def test_tool_result_for_unknown_call_is_refused() -> None:
    with pytest.raises(errors.BadRequestError, match="tool_call_id"):
        generate_request(
            {"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]},
            drop_params=False,
        )


def test_response_without_call_ids_gets_unique_ids_and_usage_details() -> None:
    response = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "plan", "thought": True},
                        {"functionCall": {"name": "f", "args": {}}},
                        {"functionCall": {"name": "f", "args": {"x": 2}}},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 100,
            "candidatesTokenCount": 10,
            "thoughtsTokenCount": 7,
            "cachedContentTokenCount": 60,
            "totalTokenCount": 117,
        },
        "modelVersion": "gemini-2.5-flash",
    }
    out = chat_completion(response, "gemini-2.5-flash")
    message = out["choices"][0]["message"]
    ids = [c["id"] for c in message["tool_calls"]]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)
    assert message["reasoning_content"] == "plan" and message["content"] is None
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    assert out["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 17,
        "total_tokens": 117,
        "prompt_tokens_details": {"cached_tokens": 60},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }


@pytest.mark.parametrize(
    "reason,finish", [("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("STOP", "stop")]
)
def test_finish_reasons(reason: str, finish: str) -> None:
    response = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}
    assert chat_completion(response, "g")["choices"][0]["finish_reason"] == finish


def test_blocked_prompt_is_a_content_policy_error() -> None:
    with pytest.raises(errors.ContentPolicyViolationError):
        chat_completion({"promptFeedback": {"blockReason": "SAFETY"}}, "g")


def test_stream_chunks() -> None:
    translator = GeminiChunks("g")
    chunks: list[dict[str, Any]] = []
    for response in [
        {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}], "responseId": "r1"},
        {"candidates": [{"content": {"parts": [{"text": "lo"}]}}]},
        {
            "candidates": [
                {
                    "content": {"parts": [{"functionCall": {"name": "f", "args": {}, "id": "g1"}}]},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4},
        },
    ]:
        chunks += translator.feed(response)
    chunks += translator.close()
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d.get("content") for d in deltas[1:3]] == ["Hel", "lo"]
    assert deltas[3]["tool_calls"][0]["id"] == "g1"
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["total_tokens"] == 7


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        (
            429,
            {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota"},
            errors.RateLimitError,
        ),
        (
            400,
            {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "API key not valid.",
                "details": [{"reason": "API_KEY_INVALID"}],
            },
            errors.AuthenticationError,
        ),
        (
            400,
            {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "The input token count (9000) exceeds the maximum number of tokens allowed (8192).",
            },
            errors.ContextWindowExceededError,
        ),
        (
            503,
            {"code": 503, "status": "UNAVAILABLE", "message": "overloaded"},
            errors.ServiceUnavailableError,
        ),
        (
            504,
            {"code": 504, "status": "DEADLINE_EXCEEDED", "message": "slow"},
            errors.RequestTimeoutError,
        ),
    ],
)
def test_classify(status: int, detail: dict[str, Any], expected: type[errors.GatewayError]) -> None:
    assert classify(status, detail) is expected


def test_thought_signature_round_trips_through_the_tool_call_id() -> None:
    response = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {
                            "functionCall": {"name": "f", "args": {}, "id": "g1"},
                            "thoughtSignature": "c2ln",
                        }
                    ]
                }
            }
        ]
    }
    call = chat_completion(response, "g")["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "g1__thought__c2ln"
    out = generate_request(
        {
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": "r"},
            ]
        },
        drop_params=False,
    )
    assert out["contents"][1]["parts"] == [
        {"functionCall": {"name": "f", "args": {}, "id": "g1"}, "thoughtSignature": "c2ln"}
    ]
    assert out["contents"][2]["parts"][0]["functionResponse"]["id"] == "g1"


def test_n_above_one_is_refused() -> None:
    with pytest.raises(errors.BadRequestError, match="n=1"):
        generate_request(
            {"messages": [{"role": "user", "content": "q"}], "n": 2}, drop_params=False
        )
