"""`general_settings.enforce_user_param` (LiteLLM's): every model request must name its end
user in `user`; without it, a 400 naming the field. In process against the fake upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping
from testing.fake_upstream import FakeUpstream, serve_in_thread

MASTER = "sk-enforce-master"
ADMIN = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(FakeUpstream()) as base:
        yield base


@pytest.fixture
async def client(upstream: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = config_from_mapping(
        {
            "model_list": [
                {
                    "model_name": "m",
                    "litellm_params": {"model": "openai/echo", "api_base": f"{upstream}/v1"},
                }
            ],
            "general_settings": {"master_key": MASTER, "enforce_user_param": True},
        },
        environ={},
    )
    app = create_app(config, data_dir=tmp_path)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        yield http


@pytest.mark.anyio
async def test_requests_without_user_are_refused(client: httpx.AsyncClient) -> None:
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    refused = await client.post("/v1/chat/completions", headers=ADMIN, json=chat)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "user"
    assert "enforce_user_param" in refused.json()["error"]["message"]
    named = await client.post("/v1/chat/completions", headers=ADMIN, json={**chat, "user": "u1"})
    assert named.status_code == 200, named.text
    embed = await client.post("/v1/embeddings", headers=ADMIN, json={"model": "m", "input": "x"})
    assert embed.status_code == 400 and embed.json()["error"]["param"] == "user"
    # Anthropic clients name the user in metadata.user_id
    messages = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    assert (await client.post("/v1/messages", headers=ADMIN, json=messages)).status_code == 400
    with_user = {**messages, "metadata": {"user_id": "u1"}}
    assert (await client.post("/v1/messages", headers=ADMIN, json=with_user)).status_code == 200
