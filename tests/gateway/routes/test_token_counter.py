"""LiteLLM's `/utils/token_counter`, in process: tiktoken (from the packaged encoding file,
no download) for OpenAI models, the labelled estimate for unknown ones, the provider's API for
Anthropic and Gemini deployments (against the fake upstream)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping
from gateway.token_counting.local import count_locally
from testing.fake_upstream import FakeUpstream, serve_in_thread

MASTER = "sk-count-master"
UPSTREAM_KEY = "sk-count-upstream"
ADMIN = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(FakeUpstream(require_key=UPSTREAM_KEY)) as base:
        yield base


@pytest.fixture
async def client(upstream: str, tmp_path: Any) -> AsyncIterator[httpx.AsyncClient]:
    def entry(name: str, model: str) -> dict[str, Any]:
        return {
            "model_name": name,
            "litellm_params": {"model": model, "api_base": upstream, "api_key": UPSTREAM_KEY},
        }

    config = config_from_mapping(
        {
            "model_list": [
                entry("gpt", "openai/gpt-4-0613"),
                entry("claude", "anthropic/echo"),
                entry("gem", "gemini/echo"),
                entry("llama", "openai/llama-3"),
            ],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    app = create_app(config, data_dir=tmp_path)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        yield http


MESSAGES = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "hello world"},
]


@pytest.mark.anyio
async def test_openai_models_count_with_tiktoken(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/utils/token_counter", headers=ADMIN, json={"model": "gpt", "messages": MESSAGES}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # cl100k: "You are helpful." = 4 tokens, "hello world" = 2; 3 per message + 3 priming
    assert body == {
        "total_tokens": 4 + 2 + 3 * 2 + 3,
        "request_model": "gpt",
        "model_used": "gpt-4-0613",
        "tokenizer_type": "tiktoken",
        "estimated": False,
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("model", "tokenizer"), [("claude", "anthropic_api"), ("gem", "gemini_api")]
)
async def test_provider_apis_count_for_their_models(
    client: httpx.AsyncClient, model: str, tokenizer: str
) -> None:
    response = await client.post(
        "/utils/token_counter", headers=ADMIN, json={"model": model, "messages": MESSAGES}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenizer_type"] == tokenizer and body["estimated"] is False
    assert body["total_tokens"] > 0


@pytest.mark.anyio
async def test_unknown_tokenizers_get_a_labelled_estimate(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/utils/token_counter", headers=ADMIN, json={"model": "llama", "prompt": "a" * 40}
    )
    body = response.json()
    assert body["tokenizer_type"] == "character_estimate" and body["estimated"] is True
    assert body["total_tokens"] == 10
    bad = await client.post("/utils/token_counter", headers=ADMIN, json={"model": "gpt"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "messages"
    assert (await client.post("/utils/token_counter", json={"model": "gpt"})).status_code == 401


def test_o200k_models_count_exactly() -> None:
    counted = count_locally("gpt-4o-mini", {"messages": [{"role": "user", "content": "hi"}]})
    assert counted.method == "tiktoken:o200k_base" and counted.estimated is False
