"""Each native provider through a real gateway process, driven by the official `openai` SDK,
in front of the strict fake upstream: what the client gets, and what the upstream received."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai import OpenAI

from tests.gateway.providers.stack import AZURE_API_VERSION, PNG_DATA_URL, UPSTREAM_KEY, Stack

NATIVE = ("anthropic", "gemini", "azure", "ollama_chat")
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}


def text_parts(received: dict[str, Any]) -> Any:
    return received["body"]


@pytest.mark.parametrize("provider", [*NATIVE, "ollama"])
def test_plain_chat_translates_system_and_sampling(
    provider: str, client: OpenAI, stack: Stack
) -> None:
    reply = client.chat.completions.create(
        model=f"{provider}-echo",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": f"hello {provider}"},
        ],
        temperature=0.5,
        top_p=0.9,
        stop=["END"],
        max_tokens=50,
    )
    assert reply.choices[0].message.content == f"hello {provider}"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.object == "chat.completion"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens

    got = stack.received("echo")
    body, headers = got["body"], got["headers"]
    if provider == "anthropic":
        assert got["path"] == "/v1/messages"
        assert headers["x-api-key"] == UPSTREAM_KEY
        assert headers["anthropic-version"] == "2023-06-01"
        assert body["system"] == [{"type": "text", "text": "Be brief."}]
        assert body["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": f"hello {provider}"}]}
        ]
        assert (body["max_tokens"], body["stop_sequences"]) == (50, ["END"])
        assert (body["temperature"], body["top_p"]) == (0.5, 0.9)
    elif provider == "gemini":
        assert got["path"] == "/v1beta/models/echo:generateContent"
        assert headers["x-goog-api-key"] == UPSTREAM_KEY
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["contents"] == [{"role": "user", "parts": [{"text": f"hello {provider}"}]}]
        assert body["generationConfig"] == {
            "temperature": 0.5,
            "topP": 0.9,
            "maxOutputTokens": 50,
            "stopSequences": ["END"],
        }
    elif provider == "azure":
        assert got["path"] == "/openai/deployments/echo/chat/completions"
        assert got["query"] == f"api-version={AZURE_API_VERSION}"
        assert headers["api-key"] == UPSTREAM_KEY
        assert "authorization" not in headers
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    else:
        assert got["path"] == "/api/chat"
        assert body["stream"] is False
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": f"hello {provider}"},
        ]
        assert body["options"] == {
            "temperature": 0.5,
            "top_p": 0.9,
            "num_predict": 50,
            "stop": ["END"],
        }


@pytest.mark.parametrize("provider", NATIVE)
def test_tool_call_reply_and_tool_schema(provider: str, client: OpenAI, stack: Stack) -> None:
    reply = client.chat.completions.create(
        model=f"{provider}-tool-call",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="auto",
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert orjson.loads(calls[0].function.arguments) == {}  # type: ignore[union-attr]
    assert calls[0].id

    body = stack.received("tool-call")["body"]
    if provider == "anthropic":
        assert body["tools"][0]["name"] == "get_weather"
        assert body["tools"][0]["input_schema"]["required"] == ["city"]
        assert body["tool_choice"] == {"type": "auto"}
    elif provider == "gemini":
        declaration = body["tools"][0]["functionDeclarations"][0]
        assert declaration["parameters"] == {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}},
            "required": ["city"],
        }
        assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    else:
        assert body["tools"][0]["function"]["name"] == "get_weather"


def _history(calls: list[tuple[str, str, str]], results: list[str]) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "What is the weather and time in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
                for call_id, name, args in calls
            ],
        },
        *[
            {"role": "tool", "tool_call_id": call_id, "content": result}
            for (call_id, _, _), result in zip(calls, results, strict=True)
        ],
        {"role": "user", "content": "thanks, summarise"},
    ]


@pytest.mark.parametrize("provider", NATIVE)
def test_multi_turn_with_tool_result(provider: str, client: OpenAI, stack: Stack) -> None:
    messages = _history([("call_w1", "get_weather", '{"city": "Paris"}')], ["18C and sunny"])
    reply = client.chat.completions.create(
        model=f"{provider}-echo",
        messages=messages,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert reply.choices[0].message.content == "thanks, summarise"

    body = stack.received("echo")["body"]
    if provider == "anthropic":
        assert body["messages"][1] == {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "call_w1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                }
            ],
        }
        assert body["messages"][2]["content"] == [
            {"type": "tool_result", "tool_use_id": "call_w1", "content": "18C and sunny"},
            {"type": "text", "text": "thanks, summarise"},
        ]
    elif provider == "gemini":
        assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
        assert body["contents"][1]["parts"] == [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_w1"}}
        ]
        assert body["contents"][2]["parts"][0] == {
            "functionResponse": {
                "name": "get_weather",
                "response": {"content": "18C and sunny"},
                "id": "call_w1",
            }
        }
    elif provider == "ollama_chat":
        assert body["messages"][1]["tool_calls"] == [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
        ]
        assert body["messages"][2] == {
            "role": "tool",
            "content": "18C and sunny",
            "tool_name": "get_weather",
        }
    else:
        assert body["messages"][2] == {
            "role": "tool",
            "tool_call_id": "call_w1",
            "content": "18C and sunny",
        }


@pytest.mark.parametrize("provider", NATIVE)
def test_parallel_tool_calls_round_trip(provider: str, client: OpenAI, stack: Stack) -> None:
    first = client.chat.completions.create(
        model=f"{provider}-parallel-tool-calls",
        messages=[{"role": "user", "content": "weather and time?"}],
        tools=[WEATHER, TIME],  # type: ignore[list-item]
    )
    calls = first.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert len({c.id for c in calls}) == 2
    assert first.choices[0].finish_reason == "tool_calls"

    # Feed both results back, with the ids the gateway handed out: the strict fake checks
    # that every call is answered (Anthropic by tool_use id, Gemini by name and id).
    history = _history(
        [(c.id, c.function.name, c.function.arguments) for c in calls],  # type: ignore[union-attr]
        ["18C", "12:00"],
    )
    second = client.chat.completions.create(
        model=f"{provider}-echo",
        messages=history,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],  # type: ignore[list-item]
    )
    assert second.choices[0].message.content == "thanks, summarise"
    body = stack.received("echo")["body"]
    if provider == "anthropic":
        results = [b for b in body["messages"][2]["content"] if b["type"] == "tool_result"]
        assert [r["tool_use_id"] for r in results] == [c.id for c in calls]
    elif provider == "gemini":
        # Gemini's ids come back bare; its thought signatures ride in the OpenAI ids and are
        # returned on the functionCall parts (the fake checks they are intact).
        bare = [c.id.split("__thought__")[0] for c in calls]
        assert all("__thought__" in c.id for c in calls)
        model_parts = body["contents"][1]["parts"]
        assert [p["functionCall"]["id"] for p in model_parts] == bare
        assert all(p["thoughtSignature"] for p in model_parts)
        responses = [p["functionResponse"] for p in body["contents"][2]["parts"][:2]]
        assert [(r["name"], r["id"]) for r in responses] == [
            ("get_weather", bare[0]),
            ("get_time", bare[1]),
        ]


@pytest.mark.parametrize("provider", NATIVE)
@pytest.mark.parametrize("source", ["data", "http"])
def test_image_input(provider: str, source: str, client: OpenAI, stack: Stack) -> None:
    url = PNG_DATA_URL if source == "data" else stack.image_url
    reply = client.chat.completions.create(
        model=f"{provider}-echo",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "describe"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    assert reply.choices[0].message.content == "describe"
    body = stack.received("echo")["body"]
    b64 = PNG_DATA_URL.split(",", 1)[1]
    if provider == "anthropic":
        image = body["messages"][0]["content"][1]
        expected = (
            {"type": "base64", "media_type": "image/png", "data": b64}
            if source == "data"
            else {"type": "url", "url": url}
        )
        assert image == {"type": "image", "source": expected}
    elif provider == "gemini":
        assert body["contents"][0]["parts"][1] == {
            "inlineData": {"mimeType": "image/png", "data": b64}
        }
    elif provider == "ollama_chat":
        assert body["messages"][0] == {"role": "user", "content": "describe", "images": [b64]}
    else:
        assert body["messages"][0]["content"][1]["image_url"]["url"] == url


@pytest.mark.parametrize("provider", [*NATIVE, "ollama"])
def test_streaming_text_with_usage(provider: str, client: OpenAI, stack: Stack) -> None:
    text = "one two three four five"
    chunks = list(
        client.chat.completions.create(
            model=f"{provider}-echo",
            messages=[{"role": "user", "content": text}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens > 0 and last.usage.prompt_tokens > 0
    got = stack.received("echo")
    if provider == "gemini":
        assert got["path"] == "/v1beta/models/echo:streamGenerateContent"
        assert got["query"] == "alt=sse"
    elif provider == "anthropic" or provider.startswith("ollama"):
        assert got["body"]["stream"] is True


@pytest.mark.parametrize("provider", ["openai", "azure", "anthropic", "gemini", "cohere"])
def test_streaming_joins_multi_line_data_fields_and_skips_comments(
    provider: str, client: OpenAI
) -> None:
    """Each SSE event's JSON arrives over several `data:` lines with comment lines in between
    (legal SSE); every provider reads it as one event, as the openai SDK would."""
    text = "one two three four five"
    chunks = list(
        client.chat.completions.create(
            model=f"{provider}-echo+sse-multiline",
            messages=[{"role": "user", "content": text}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.parametrize("provider", NATIVE)
def test_streaming_without_usage_request_has_no_usage_chunk(provider: str, client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=f"{provider}-echo", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


@pytest.mark.parametrize("provider", NATIVE)
def test_streaming_parallel_tool_calls(provider: str, client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=f"{provider}-parallel-tool-calls",
            messages=[{"role": "user", "content": "weather and time?"}],
            tools=[WEATHER, TIME],  # type: ignore[list-item]
            stream=True,
        )
    )
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id:
                assert not entry["id"], "a tool call's id is sent once"
                entry["id"] = delta.id
            if delta.function and delta.function.name:
                entry["name"] = delta.function.name
            if delta.function and delta.function.arguments:
                entry["arguments"] += delta.function.arguments
    assert sorted(calls) == [0, 1]
    assert [calls[0]["name"], calls[1]["name"]] == ["get_weather", "get_time"]
    assert all(orjson.loads(c["arguments"]) == {} and c["id"] for c in calls.values())
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["tool_calls"]


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "ollama_chat"])
def test_reasoning_surfaces_as_reasoning_content(
    provider: str, client: OpenAI, stack: Stack
) -> None:
    reply = client.chat.completions.create(
        model=f"{provider}-echo",
        messages=[{"role": "user", "content": "think first"}],
        reasoning_effort="low",
    )
    message = reply.choices[0].message
    assert message.content == "think first"
    assert (message.model_extra or {}).get("reasoning_content")
    if provider == "gemini":
        assert reply.usage is not None and reply.usage.completion_tokens_details is not None
        assert (reply.usage.completion_tokens_details.reasoning_tokens or 0) > 0
    body = stack.received("echo")["body"]
    if provider == "anthropic":
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
        assert body["max_tokens"] > 1024
    elif provider == "gemini":
        assert body["generationConfig"]["thinkingConfig"]["includeThoughts"] is True
    else:
        assert body["think"] is True

    streamed = list(
        client.chat.completions.create(
            model=f"{provider}-echo",
            messages=[{"role": "user", "content": "think first"}],
            reasoning_effort="low",
            stream=True,
        )
    )
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
        for c in streamed
        if c.choices
    )
    assert reasoning


def test_json_schema_response_format(client: OpenAI, stack: Stack) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": ["string", "null"]}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    response_format: Any = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    client.chat.completions.create(
        model="gemini-echo",
        messages=[{"role": "user", "content": "json please"}],
        response_format=response_format,
    )
    config = stack.received("echo")["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == {
        "type": "object",
        "properties": {"answer": {"type": "string", "nullable": True}},
        "required": ["answer"],
    }

    stack.script(
        "tool-call", [{"tool_calls": [{"name": "json_tool_call", "arguments": {"answer": "42"}}]}]
    )
    reply = client.chat.completions.create(
        model="anthropic-tool-call",
        messages=[{"role": "user", "content": "json please"}],
        response_format=response_format,
    )
    assert orjson.loads(reply.choices[0].message.content or "") == {"answer": "42"}
    assert reply.choices[0].finish_reason == "stop"
    body = stack.received("tool-call")["body"]
    assert body["tool_choice"] == {"type": "tool", "name": "json_tool_call"}
    assert body["tools"][0]["input_schema"] == schema
