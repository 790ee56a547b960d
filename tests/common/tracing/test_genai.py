"""The GenAI attributes read from a response: what is there and well typed, nothing else."""

from __future__ import annotations

from collections import OrderedDict

from common.tracing import genai


def test_a_whole_response_gives_model_id_reasons_and_usage() -> None:
    response = {
        "id": "chatcmpl-1",
        "model": "gpt-x",
        "choices": [{"finish_reason": "tool_calls"}, {"finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }
    assert genai.response_attributes(response) == {
        genai.RESPONSE_ID: "chatcmpl-1",
        genai.RESPONSE_MODEL: "gpt-x",
        genai.FINISH_REASONS: ["tool_calls", "stop"],
        genai.INPUT_TOKENS: 12,
        genai.OUTPUT_TOKENS: 3,
    }


def test_missing_or_mistyped_fields_are_left_out() -> None:
    assert genai.response_attributes(None) == {}
    assert genai.response_attributes(["not", "a", "response"]) == {}
    assert genai.response_attributes({"choices": [None, {"finish_reason": None}]}) == {}
    assert genai.response_attributes({"usage": None, "model": 3, "id": None}) == {}
    # a bool is an int to Python, not a token count
    usage = {"prompt_tokens": True, "completion_tokens": 2}
    assert genai.response_attributes({"usage": usage}) == {genai.OUTPUT_TOKENS: 2}
    assert genai.response_attributes({"usage": "12 tokens"}) == {}


def test_mappings_that_are_not_plain_dicts_are_read_too() -> None:
    response = OrderedDict(model="m", usage=OrderedDict(prompt_tokens=1, completion_tokens=2))
    assert genai.response_attributes(response) == {
        genai.RESPONSE_MODEL: "m",
        genai.INPUT_TOKENS: 1,
        genai.OUTPUT_TOKENS: 2,
    }
