"""Upstream failures of each native provider, as the `openai` SDK sees them through the gateway:
one class per failure, whatever shape the provider used; plus embeddings."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai import OpenAI

from tests.gateway.providers.stack import UPSTREAM_KEY, Stack

NATIVE = ("anthropic", "gemini", "azure", "ollama_chat", "cohere", "vertex_ai")

# (behaviour, SDK error class, HTTP status, error code or None); Anthropic's overload is 529.
COMMON = [
    ("error-400", openai.BadRequestError, 400, None),
    ("error-401", openai.AuthenticationError, 401, None),
    ("error-403", openai.PermissionDeniedError, 403, None),
    ("error-404", openai.NotFoundError, 404, None),
    ("error-429", openai.RateLimitError, 429, "rate_limit_exceeded"),
    ("error-500", openai.InternalServerError, 500, None),
]
CASES = [
    *[(p, *case) for p in NATIVE for case in COMMON],
    ("anthropic", "error-529", openai.InternalServerError, 503, "service_unavailable"),
    ("gemini", "error-503", openai.InternalServerError, 503, "service_unavailable"),
    ("vertex_ai", "error-503", openai.InternalServerError, 503, "service_unavailable"),
    ("cohere", "error-503", openai.InternalServerError, 503, "service_unavailable"),
    # Azure's own error codes are passed through with the mapped class.
    ("azure", "error-503", openai.InternalServerError, 503, "overloaded"),
    *[
        (p, "context-window", openai.BadRequestError, 400, "context_length_exceeded")
        for p in ("anthropic", "gemini", "azure", "vertex_ai")
    ],
    ("gemini", "content-policy", openai.BadRequestError, 400, "content_policy_violation"),
    ("vertex_ai", "content-policy", openai.BadRequestError, 400, "content_policy_violation"),
    ("azure", "content-policy", openai.BadRequestError, 400, "content_filter"),
]


@pytest.mark.parametrize(("provider", "behaviour", "error", "status", "code"), CASES)
def test_upstream_error_classes(
    provider: str,
    behaviour: str,
    error: type[openai.APIStatusError],
    status: int,
    code: str | None,
    client: OpenAI,
) -> None:
    for stream in (False, True):
        with pytest.raises(error) as raised:
            client.chat.completions.create(
                model=f"{provider}-{behaviour}",
                messages=[{"role": "user", "content": "hi"}],
                stream=stream,
            )
        assert raised.value.status_code == status
        body = raised.value.body
        assert isinstance(body, dict)
        assert body["message"].startswith(f"{provider} error: ")
        if code is not None:
            assert body["code"] == code
        if behaviour == "error-429":
            assert raised.value.response.headers["retry-after"] == "1"


def test_anthropic_refusal_is_content_filter(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model="anthropic-content-policy", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize("provider", NATIVE)
def test_upstream_timeout_is_408(provider: str, client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(
            model=f"{provider}-hang", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == 408
    assert isinstance(raised.value.body, dict) and raised.value.body["code"] == "timeout"


def test_wrong_upstream_key_is_an_authentication_error(stack: Stack) -> None:
    """The fake refuses keys in each provider's own way; the gateway sends them correctly, so a
    bad key shows up only when we call the fake directly without one."""
    missing = httpx.post(
        f"{stack.upstream.url}/v1beta/models/echo:generateContent",
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    )
    assert missing.status_code == 401
    assert missing.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    keyed = httpx.post(
        f"{stack.upstream.url}/v1beta/models/echo:generateContent?key={UPSTREAM_KEY}",
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    )
    assert keyed.status_code == 200


def test_unsupported_params_are_refused_unless_dropped(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="anthropic-echo",
            messages=[{"role": "user", "content": "hi"}],
            logprobs=True,
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "unsupported_params"


@pytest.mark.parametrize("provider", ["gemini", "azure", "ollama", "cohere"])
def test_embeddings(provider: str, client: OpenAI, stack: Stack) -> None:
    result = client.embeddings.create(
        model=f"{provider}-text-embedding-fake", input=["first text", "second text"], dimensions=8
    )
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 8 for d in result.data)
    assert result.data[0].embedding != result.data[1].embedding
    assert result.usage.prompt_tokens > 0
    got = stack.received("text-embedding-fake")
    if provider == "gemini":
        assert got["path"] == "/v1beta/models/text-embedding-fake:batchEmbedContents"
        assert got["body"]["requests"][1] == {
            "model": "models/text-embedding-fake",
            "content": {"parts": [{"text": "second text"}]},
            "outputDimensionality": 8,
        }
    elif provider == "cohere":
        assert got["path"] == "/v2/embed"
        assert got["body"] == {
            "model": "text-embedding-fake",
            "texts": ["first text", "second text"],
            "input_type": "search_document",
            "embedding_types": ["float"],
            "output_dimension": 8,
        }
        assert got["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
    elif provider == "ollama":
        assert got["path"] == "/api/embed"
        assert got["body"] == {
            "model": "text-embedding-fake",
            "input": ["first text", "second text"],
            "dimensions": 8,
        }
    else:
        assert got["path"] == "/openai/deployments/text-embedding-fake/embeddings"
        assert got["headers"]["api-key"] == UPSTREAM_KEY


@pytest.mark.parametrize("provider", NATIVE)
def test_malformed_upstream_body_is_502(provider: str, client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(
            model=f"{provider}-malformed", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == 502


@pytest.mark.parametrize("provider", NATIVE)
def test_stream_cut_off_midway_ends_with_an_error_event(provider: str, client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=f"{provider}-disconnect",
        messages=[{"role": "user", "content": "a long enough prompt to stream"}],
        stream=True,
    )
    with pytest.raises(openai.APIError) as raised:
        for _ in stream:
            pass
    assert f"{provider} error" in raised.value.message
