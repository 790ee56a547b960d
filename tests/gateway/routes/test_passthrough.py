"""`/anthropic/*`, `/openai/*` and `/gemini/*` with a virtual key, against the fake upstream:
the provider's own SDK works unchanged (streaming included), the provider key replaces the
caller's, spend is logged from the usage that went by, and a bad key never reaches upstream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.gateway.providers.stack import MASTER_KEY, UPSTREAM_KEY, Stack, running_stack

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}


@pytest.fixture(scope="module")
def stack(service_log_dir: Path) -> Iterator[Stack]:
    with running_stack(service_log_dir) as running:
        yield running


@pytest.fixture(scope="module")
def key(stack: Stack) -> str:
    response = httpx.post(f"{stack.gateway_url}/key/generate", headers=ADMIN, json={}, timeout=10)
    response.raise_for_status()
    return str(response.json()["key"])


def _upstream_requests(stack: Stack) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.upstream.url}/__fake__/requests", timeout=10)
    response.raise_for_status()
    return list(response.json()["data"])


def _spend_rows(stack: Stack, key: str, model: str, count: int) -> list[dict[str, Any]]:
    """Spend rows are written in batches off the request path: wait (bounded) for them."""
    deadline = time.monotonic() + 20
    while True:
        rows = httpx.get(
            f"{stack.gateway_url}/spend/logs", headers=ADMIN, params={"api_key": key}, timeout=10
        ).json()
        found = [r for r in rows if r["model_group"] == model]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_anthropic_sdk_streams_through_with_a_virtual_key(stack: Stack, key: str) -> None:
    with (
        anthropic.Anthropic(
            base_url=f"{stack.gateway_url}/anthropic", api_key=key, max_retries=0
        ) as claude,
        claude.messages.stream(
            model="echo", max_tokens=50, messages=[{"role": "user", "content": "pass me through"}]
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "pass me through"
    received = stack.received("echo")
    assert received["path"] == "/v1/messages"
    # The provider's key went upstream, never the caller's virtual key.
    assert received["headers"]["x-api-key"] == UPSTREAM_KEY
    assert key not in str(received["headers"])

    rows = _spend_rows(stack, key, "echo", 1)
    assert rows, "no spend row was written"
    row = rows[-1]
    assert row["prompt_tokens"] == final.usage.input_tokens
    assert row["completion_tokens"] == final.usage.output_tokens > 0
    assert row["custom_llm_provider"] == "anthropic" and row["status"] == "success"


def test_a_bad_key_is_refused_before_any_upstream_call(stack: Stack) -> None:
    before = len(_upstream_requests(stack))
    with (
        anthropic.Anthropic(
            base_url=f"{stack.gateway_url}/anthropic", api_key="sk-not-a-key", max_retries=0
        ) as claude,
        pytest.raises(anthropic.AuthenticationError) as raised,
    ):
        claude.messages.create(
            model="echo", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert raised.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    for path in ("/openai/v1/chat/completions", "/gemini/v1beta/models/echo:generateContent"):
        assert httpx.post(f"{stack.gateway_url}{path}", json={}, timeout=10).status_code == 401
    assert len(_upstream_requests(stack)) == before


def test_openai_sdk_through_openai_route(stack: Stack, key: str) -> None:
    with openai.OpenAI(
        base_url=f"{stack.gateway_url}/openai/v1", api_key=key, max_retries=0
    ) as sdk:
        reply = sdk.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "openai native"}]
        )
        chunks = list(
            sdk.chat.completions.create(
                model="echo",
                messages=[{"role": "user", "content": "streamed"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert reply.choices[0].message.content == "openai native"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed"
    received = stack.received("echo")
    assert received["path"] == "/v1/chat/completions"
    assert received["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
    rows = _spend_rows(stack, key, "echo", 3)
    assert len(rows) >= 3 and all(r["completion_tokens"] > 0 for r in rows)


def test_gemini_route_takes_the_key_in_the_query(stack: Stack, key: str) -> None:
    response = httpx.post(
        f"{stack.gateway_url}/gemini/v1beta/models/echo:generateContent",
        params={"key": key},
        json={"contents": [{"role": "user", "parts": [{"text": "gemini native"}]}]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["candidates"][0]["content"]["parts"][0]["text"] == "gemini native"
    received = stack.received("echo")
    assert received["headers"]["x-goog-api-key"] == UPSTREAM_KEY
    assert "key=" not in received["query"]


def test_a_path_that_is_no_url_is_a_400_not_a_500(stack: Stack, key: str) -> None:
    # found by schemathesis: a control character in the path cannot become an upstream URL
    response = httpx.post(
        f"{stack.gateway_url}/openai/v1/chat%0Ecompletions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "gpt-4o"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert "Invalid pass-through URL" in response.json()["error"]["message"]
