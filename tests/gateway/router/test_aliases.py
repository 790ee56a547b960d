"""`router_settings.model_group_alias` and `disable_cooldowns`, in process against the fake
upstream: an alias is served by its group (spend and limits are the group's), listed unless
hidden, and a key may name either; `disable_cooldowns` turns cooldowns off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping
from gateway.router import build_router
from gateway.router.aliases import install_aliases
from gateway.router.groups import ModelGroups
from testing.fake_upstream import FakeUpstream, serve_in_thread

MASTER = "sk-alias-master"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(FakeUpstream()) as base:
        yield base


def _config(upstream: str, router_settings: dict[str, Any]) -> Any:
    return config_from_mapping(
        {
            "model_list": [
                {
                    "model_name": "real",
                    "litellm_params": {"model": "openai/echo", "api_base": f"{upstream}/v1"},
                }
            ],
            "router_settings": router_settings,
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )


@pytest.fixture
async def client(upstream: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    aliases = {"gpt-4": "real", "internal": {"model": "real", "hidden": True}, "gone": "nowhere"}
    app = create_app(_config(upstream, {"model_group_alias": aliases}), data_dir=tmp_path)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        yield http


async def _chat(client: httpx.AsyncClient, model: str, key: str = MASTER) -> httpx.Response:
    return await client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": HI},
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.mark.anyio
async def test_an_alias_is_served_by_its_group(client: httpx.AsyncClient) -> None:
    for model in ("gpt-4", "internal", "real"):
        response = await _chat(client, model)
        assert response.status_code == 200, response.text
    listed = [m["id"] for m in (await client.get("/v1/models", headers=ADMIN)).json()["data"]]
    # hidden and dangling aliases are served or refused, never listed
    assert listed == ["real", "gpt-4"]
    unknown = await _chat(client, "gone")
    assert unknown.status_code == 400 and "gpt-4" in unknown.json()["error"]["message"]
    rows: list[dict[str, Any]] = []
    for _ in range(300):  # rows are written in batches, off the request path
        rows = (await client.get("/spend/logs", headers=ADMIN)).json()
        if len(rows) >= 3:
            break
        await asyncio.sleep(0.05)
    assert len(rows) == 3 and {row["model_group"] for row in rows} == {"real"}


@pytest.mark.anyio
async def test_a_key_may_name_the_alias_or_the_group(client: httpx.AsyncClient) -> None:
    made = await client.post("/key/generate", headers=ADMIN, json={"models": ["gpt-4"]})
    key = made.json()["key"]
    assert (await _chat(client, "gpt-4", key)).status_code == 200
    assert (await _chat(client, "real", key)).status_code == 403
    group_key = (
        await client.post("/key/generate", headers=ADMIN, json={"models": ["real"]})
    ).json()["key"]
    assert (await _chat(client, "gpt-4", group_key)).status_code == 200


def test_a_group_name_wins_over_an_alias_of_the_same_name() -> None:
    groups = ModelGroups(groups={"real": [], "other": []})
    install_aliases(groups, {"real": "other", "nick": "real"})
    assert groups.aliases == {"nick": "real"}
    assert groups.group_name("real") == "real" and groups.group_name("nick") == "real"


def test_disable_cooldowns_turns_them_off(upstream: str) -> None:
    on = build_router(_config(upstream, {}), ModelGroups.from_deployments([]))
    off = build_router(
        _config(upstream, {"disable_cooldowns": True}), ModelGroups.from_deployments([])
    )
    assert on.cooldown.enabled and not off.cooldown.enabled
