"""Embeddings, legacy completions and the model list through the official SDK."""

from __future__ import annotations

import math

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from testing.fake_upstream import FIXED_TEXT


def test_embeddings_are_deterministic_unit_vectors(client: OpenAI) -> None:
    first = client.embeddings.create(model="text-embedding-fake", input=["alpha", "beta"])
    again = client.embeddings.create(model="text-embedding-fake", input="alpha")

    assert first.object == "list"
    assert [item.index for item in first.data] == [0, 1]
    alpha, beta = (item.embedding for item in first.data)
    assert len(alpha) == 1536
    assert math.isclose(math.fsum(v * v for v in alpha), 1.0, rel_tol=1e-5)
    assert alpha != beta
    # The SDK asks for base64 by default and decodes float32s; values match to float32 precision.
    assert again.data[0].embedding == pytest.approx(alpha, abs=1e-6)
    assert first.usage.prompt_tokens == 3  # "alpha" ~2 tokens + "beta" ~1
    assert first.usage.total_tokens == 3


def test_embedding_dimensions_and_float_encoding(client: OpenAI) -> None:
    response = client.embeddings.create(
        model="text-embedding-fake", input="gamma", dimensions=8, encoding_format="float"
    )

    assert len(response.data[0].embedding) == 8


def test_embeddings_accept_token_arrays(client: OpenAI) -> None:
    response = client.embeddings.create(model="text-embedding-fake", input=[[1, 2, 3], [4, 5]])

    assert len(response.data) == 2


def test_embeddings_follow_error_behaviour(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model="error-429", input="x")


def test_embeddings_validate_input(control: httpx.Client) -> None:
    missing = control.post("/v1/embeddings", json={"model": "m"})
    bad_dims = control.post("/v1/embeddings", json={"model": "m", "input": "x", "dimensions": 0})

    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "input"
    assert bad_dims.status_code == 400
    assert bad_dims.json()["error"]["param"] == "dimensions"


def test_completions_fixed_and_echo(client: OpenAI) -> None:
    fixed = client.completions.create(model="davinci-002", prompt="Once upon a time")
    echo = client.completions.create(model="echo", prompt="Say this back")

    assert fixed.object == "text_completion"
    assert fixed.choices[0].text == FIXED_TEXT
    assert fixed.choices[0].finish_reason == "stop"
    assert fixed.usage is not None
    assert fixed.usage.prompt_tokens == 4
    assert echo.choices[0].text == "Say this back"


def test_completions_stream_with_usage(client: OpenAI) -> None:
    chunks = list(
        client.completions.create(
            model="echo",
            prompt="stream these words",
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == "stream these words"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None


def test_completions_require_prompt(control: httpx.Client) -> None:
    response = control.post("/v1/completions", json={"model": "m"})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


def test_models_list(client: OpenAI) -> None:
    models = client.models.list()

    ids = [model.id for model in models]
    assert "echo" in ids
    assert all(model.object == "model" for model in models)


@pytest.mark.anyio
async def test_async_embeddings_and_completions(async_client: AsyncOpenAI) -> None:
    embedding = await async_client.embeddings.create(model="e", input="x", dimensions=4)
    completion = await async_client.completions.create(model="echo", prompt="async")

    assert len(embedding.data[0].embedding) == 4
    assert completion.choices[0].text == "async"
