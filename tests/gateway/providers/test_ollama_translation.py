"""OpenAI <-> Ollama `/api/chat` translation, pure."""

from __future__ import annotations

import pytest

from gateway import errors
from gateway.providers.ollama_translate import OllamaChunks, chat_completion, chat_request
from gateway.providers.openai_shapes import ChunkWriter


def test_response_format_and_tool_choice() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    body = {
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    }
    assert chat_request(body, "llama3", stream=False, drop_params=False)["format"] == schema
    body["response_format"] = {"type": "json_object"}
    assert chat_request(body, "llama3", stream=False, drop_params=False)["format"] == "json"
    body["tools"] = [{"type": "function", "function": {"name": "f"}}]
    body["tool_choice"] = "required"
    with pytest.raises(errors.BadRequestError, match="tool_choice"):
        chat_request(body, "llama3", stream=False, drop_params=False)
    body["tool_choice"] = "none"
    assert "tools" not in chat_request(body, "llama3", stream=False, drop_params=False)


def test_documented_tool_call_response() -> None:
    response = {
        "model": "llama3.2",
        "created_at": "2024-07-22T20:33:28.123648Z",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "get_current_weather", "arguments": {"location": "Paris"}}}
            ],
        },
        "done_reason": "stop",
        "done": True,
        "prompt_eval_count": 217,
        "eval_count": 22,
    }
    out = chat_completion(response, "llama3.2")
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    call = out["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_current_weather", "arguments": '{"location":"Paris"}'}
    assert call["id"].startswith("call_")
    assert out["usage"]["total_tokens"] == 239


def test_ndjson_stream() -> None:
    translator = OllamaChunks(ChunkWriter.start("llama3"))
    chunks = []
    for line in [
        {"message": {"role": "assistant", "content": "Hi"}, "done": False},
        {
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": {}}}],
            },
            "done": False,
        },
        {
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 2,
            "eval_count": 3,
        },
    ]:
        chunks += translator.feed(line)
    assert chunks[1]["choices"][0]["delta"] == {"content": "Hi"}
    assert chunks[2]["choices"][0]["delta"]["tool_calls"][0]["index"] == 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    assert translator.done
