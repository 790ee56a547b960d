"""The Anthropic, Gemini, Ollama and Azure formats of the fake: as strict as the real APIs, so
that a wrong translation in the gateway fails; and readable by the official SDK where one
exists here (Anthropic)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.support.processes import ServiceProcess

V = {"anthropic-version": "2023-06-01"}
USER = {"role": "user", "content": "hi"}


@pytest.fixture
def claude(upstream: ServiceProcess) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=upstream.url, api_key="k", max_retries=0) as sdk:
        yield sdk


def test_anthropic_sdk_reads_the_fake(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="echo", max_tokens=50, messages=[USER])  # type: ignore[list-item]
    assert message.content[0].text == "hi"  # type: ignore[union-attr]
    tools: Any = [{"name": "f", "input_schema": {"type": "object"}}]
    with claude.messages.stream(
        model="tool-call",
        max_tokens=50,
        messages=[USER],
        tools=tools,  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use" and final.content[0].type == "tool_use"


@pytest.mark.parametrize(
    ("body", "headers", "fragment"),
    [
        ({"model": "echo", "messages": [USER]}, V, "max_tokens"),
        ({"model": "echo", "max_tokens": 5, "messages": [USER]}, {}, "anthropic-version"),
        (
            {
                "model": "echo",
                "max_tokens": 5,
                "messages": [{"role": "system", "content": "s"}, USER],
            },
            V,
            'Unexpected role "system"',
        ),
        (
            {"model": "echo", "max_tokens": 5, "messages": [USER], "stop": ["x"]},
            V,
            "stop: Extra inputs",
        ),
        (
            {
                "model": "echo",
                "max_tokens": 5,
                "messages": [
                    USER,
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    USER,
                ],
            },
            V,
            "without `tool_result` blocks",
        ),
        (
            {
                "model": "echo",
                "max_tokens": 5,
                "messages": [
                    USER,
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "x"},
                            {"type": "tool_result", "tool_use_id": "t1", "content": "r"},
                        ],
                    },
                ],
            },
            V,
            "must come first",
        ),
        (
            {"model": "echo", "max_tokens": 5, "messages": [USER], "output_config": {"e": 1}},
            V,
            "output_config.e: Extra inputs",
        ),
        (
            {"model": "echo", "max_tokens": 5, "messages": [USER], "thinking": {"type": "x"}},
            V,
            "thinking: Input tag",
        ),
        (
            {
                "model": "echo",
                "max_tokens": 5,
                "messages": [USER],
                "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
            },
            V,  # context management is a beta: refused without its anthropic-beta header
            "context_management: Extra inputs",
        ),
    ],
)
def test_anthropic_is_strict(
    body: dict[str, Any], headers: dict[str, str], fragment: str, control: httpx.Client
) -> None:
    response = control.post("/v1/messages", json=body, headers=headers)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert fragment in error["error"]["message"]


def _gemini(control: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return control.post("/v1beta/models/echo:generateContent", json=body)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {
                "contents": [{"role": "user", "parts": [{"text": "x"}]}],
                "tools": [
                    {
                        "functionDeclarations": [
                            {
                                "name": "f",
                                "parameters": {"type": "object", "additionalProperties": False},
                            }
                        ]
                    }
                ],
            },
            'Unknown name "additionalProperties"',
        ),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "a"}]},
                    {"role": "user", "parts": [{"text": "b"}]},
                ]
            },
            "alternate between user and model",
        ),
        ({"contents": [{"role": "assistant", "parts": [{"text": "a"}]}]}, "valid role"),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "a"}]},
                    {
                        "role": "model",
                        "parts": [
                            {"functionCall": {"name": "f", "args": {}}},
                            {"functionCall": {"name": "g", "args": {}}},
                        ],
                    },
                    {
                        "role": "user",
                        "parts": [{"functionResponse": {"name": "f", "response": {}}}],
                    },
                ]
            },
            "number of function response parts",
        ),
        (
            {
                "contents": [{"role": "user", "parts": [{"text": "a"}]}],
                "generationConfig": {"max_tokens": 5},
            },
            'Unknown name "max_tokens"',
        ),
    ],
)
def test_gemini_is_strict(body: dict[str, Any], fragment: str, control: httpx.Client) -> None:
    response = _gemini(control, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and fragment in error["message"]


def test_gemini_answers_like_the_reference(control: httpx.Client) -> None:
    response = _gemini(control, {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]})
    body = response.json()
    assert body["candidates"][0]["content"] == {"parts": [{"text": "hello"}], "role": "model"}
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert set(body["usageMetadata"]) == {
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
    }


def test_azure_requires_api_version(control: httpx.Client) -> None:
    path = "/openai/deployments/echo/chat/completions"
    missing = control.post(path, json={"messages": [USER]})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "MissingApiVersionParameter"
    ok = control.post(path + "?api-version=2024-10-21", json={"messages": [USER]})
    assert ok.json()["choices"][0]["message"]["content"] == "hi"
    assert ok.json()["prompt_filter_results"]


def test_ollama_refuses_string_arguments_and_streams_by_default(control: httpx.Client) -> None:
    call = {"function": {"name": "f", "arguments": "{}"}}
    bad = control.post(
        "/api/chat",
        json={
            "model": "echo",
            "stream": False,
            "messages": [{"role": "assistant", "content": "", "tool_calls": [call]}],
        },
    )
    assert bad.status_code == 400 and "cannot unmarshal string" in bad.json()["error"]
    streamed = control.post(
        "/api/chat", json={"model": "echo", "messages": [{"role": "user", "content": "a b c"}]}
    )
    assert streamed.headers["content-type"] == "application/x-ndjson"
    lines = streamed.text.strip().splitlines()
    assert len(lines) > 2 and '"done":true' in lines[-1]


def test_anthropic_takes_what_claude_code_sends(control: httpx.Client) -> None:
    body = {
        "model": "echo",
        "max_tokens": 2000,
        "messages": [USER],
        "thinking": {"type": "adaptive", "display": "omitted"},
        "output_config": {"effort": "high"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    }
    headers = {**V, "anthropic-beta": "claude-code-20250219,context-management-2025-06-27"}
    response = control.post("/v1/messages", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert [b["type"] for b in response.json()["content"]] == ["thinking", "text"]


def test_count_tokens_routes_are_strict(control: httpx.Client) -> None:
    counted = control.post(
        "/v1/messages/count_tokens", json={"model": "echo", "messages": [USER]}, headers=V
    )
    assert counted.status_code == 200 and counted.json() == {"input_tokens": 1}
    refused = control.post(
        "/v1/messages/count_tokens",
        json={"model": "echo", "max_tokens": 5, "messages": [USER]},
        headers=V,
    )
    assert refused.status_code == 400 and "max_tokens" in refused.json()["error"]["message"]
    contents = [{"role": "user", "parts": [{"text": "hello there"}]}]
    gemini = control.post("/v1beta/models/echo:countTokens", json={"contents": contents})
    assert gemini.status_code == 200 and gemini.json() == {"totalTokens": 3}
    wrong = control.post(
        "/v1beta/models/echo:countTokens",
        json={"generateContentRequest": {"model": "models/other", "contents": contents}},
    )
    assert wrong.status_code == 400
