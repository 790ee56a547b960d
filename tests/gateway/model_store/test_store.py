"""Stored models in process, on SQLite and PostgreSQL: config models stay read-only, a stored
model gets the router's limits and prices, `/model_group/info`, and salt-key rotation.

Shapes: https://docs.litellm.ai/docs/proxy/model_management and
https://docs.litellm.ai/docs/proxy/model_access (`/model_group/info`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.model_store.rotate import rotate_salt_key
from gateway.model_store.secrets import SecretBox, SecretKeyMismatchError
from gateway.store import database_url_for, open_database, tables
from gateway.store.repository import fetch_all
from tests.gateway.store.databases import (
    CHAT,
    MASTER,
    admin,
    gateway_config,
    running_gateway,
    state_of,
)

pytestmark = pytest.mark.anyio
PROVIDER_KEY = "sk-provider-key-in-db"


def recording_upstream(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "hi"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10},
            },
        )

    return httpx.MockTransport(handle)


def stored_config(database_url: str) -> dict[str, Any]:
    config = gateway_config(database_url, store_model_in_db=True)
    config["model_list"] = config["model_list"][:1]  # "m", from the config
    return config


NEW = {
    "model_name": "db-model",
    "litellm_params": {
        "model": "openai/db-upstream",
        "api_base": "http://db-upstream.test/v1",
        "api_key": PROVIDER_KEY,
        "rpm": 1,
        "input_cost_per_token": 0.5,
        "output_cost_per_token": 0.5,
    },
    "model_info": {"max_input_tokens": 1000, "supports_vision": True},
}


async def test_config_models_are_read_only(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(stored_config(database_url), tmp_path) as (app, client):
        config_id = state_of(app).groups.get("m")[0].id
        info = (await client.get("/model/info", headers=admin())).json()["data"]
        assert [(m["model_name"], m["model_info"]["db_model"]) for m in info] == [("m", False)]
        update = await client.post(
            "/model/update",
            headers=admin(),
            json={"model_info": {"id": config_id}, "litellm_params": {"api_base": "http://x"}},
        )
        assert update.status_code == 400
        assert update.json()["error"]["code"] == "config_model_read_only"
        delete = await client.post("/model/delete", headers=admin(), json={"id": config_id})
        assert delete.status_code == 400
        assert (
            await client.post("/v1/chat/completions", headers=admin(), json=CHAT)
        ).status_code == 200


async def test_a_stored_model_gets_limits_prices_and_group_info(
    database_url: str, tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []
    config = stored_config(database_url)
    async with running_gateway(config, tmp_path, recording_upstream(seen)) as (app, client):
        made = await client.post("/model/new", headers=admin(), json=NEW)
        assert made.status_code == 200, made.text
        chat = {**CHAT, "model": "db-model"}
        first = await client.post("/v1/chat/completions", headers=admin(), json=chat)
        assert first.status_code == 200, first.text
        assert seen[-1].url == "http://db-upstream.test/v1/chat/completions"
        assert seen[-1].headers["authorization"] == f"Bearer {PROVIDER_KEY}"
        # rpm: 1 on the stored deployment: the router refuses the second call this minute.
        second = await client.post("/v1/chat/completions", headers=admin(), json=chat)
        assert second.status_code == 429, second.text
        # Its prices apply: 20 tokens at 0.5 each.
        key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
        await client.post(
            "/model/update",
            headers=admin(),
            json={
                "model_info": {"id": made.json()["model_id"]},
                "litellm_params": {"rpm": None},
            },
        )
        paid = await client.post(
            "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=chat
        )
        assert paid.status_code == 200, paid.text
        assert float(paid.headers["x-litellm-key-spend"]) == pytest.approx(10.0)

        groups = (await client.get("/model_group/info", headers=admin())).json()["data"]
        mine = next(g for g in groups if g["model_group"] == "db-model")
        assert mine["providers"] == ["openai"]
        assert mine["max_input_tokens"] == 1000 and mine["supports_vision"] is True
        assert mine["input_cost_per_token"] == 0.5 and mine["mode"] == "chat"
        only = await client.get("/model_group/info", params={"model_group": "m"}, headers=admin())
        assert [g["model_group"] for g in only.json()["data"]] == ["m"]

        deleted = await client.post(
            "/model/delete", headers=admin(), json={"id": made.json()["model_id"]}
        )
        assert deleted.status_code == 200
        router_state = state_of(app).router.state
        assert made.json()["model_id"] not in getattr(router_state, "deployments", {})


async def test_off_unless_store_model_in_db(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        response = await client.post("/model/new", headers=admin(), json=NEW)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "store_model_in_db_off"


async def test_rotating_the_salt_key(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[httpx.Request] = []
    config = stored_config(database_url)
    monkeypatch.delenv("LITELLM_SALT_KEY", raising=False)  # the master key encrypts
    async with running_gateway(config, tmp_path, recording_upstream(seen)) as (_app, client):
        assert (await client.post("/model/new", headers=admin(), json=NEW)).status_code == 200

    db = await open_database(database_url_for(database_url, tmp_path))
    try:
        stored = await fetch_all(db, tables.proxy_models)
        assert PROVIDER_KEY not in repr(stored)
        with pytest.raises(SecretKeyMismatchError):  # a wrong old key changes nothing
            await rotate_salt_key(db, SecretBox.from_key("wrong"), SecretBox.from_key("new"))
        assert await fetch_all(db, tables.proxy_models) == stored
        assert await rotate_salt_key(db, SecretBox.from_key(MASTER), SecretBox.from_key("new")) == 1
    finally:
        await db.close()

    monkeypatch.setenv("LITELLM_SALT_KEY", "new")
    async with running_gateway(config, tmp_path, recording_upstream(seen)) as (_app, client):
        chat = {**CHAT, "model": "db-model"}
        assert (
            await client.post("/v1/chat/completions", headers=admin(), json=chat)
        ).status_code == 200
        assert seen[-1].headers["authorization"] == f"Bearer {PROVIDER_KEY}"

    monkeypatch.setenv("LITELLM_SALT_KEY", "not-the-key")  # skipped with a log line, no crash
    async with running_gateway(config, tmp_path, recording_upstream(seen)) as (_app, client):
        chat = {**CHAT, "model": "db-model"}
        refused = await client.post("/v1/chat/completions", headers=admin(), json=chat)
        assert refused.json()["error"]["code"] == "model_not_found"


async def test_patch_update_and_masked_info(database_url: str, tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    async with running_gateway(stored_config(database_url), tmp_path, recording_upstream(seen)) as (
        _app,
        client,
    ):
        made = (await client.post("/model/new", headers=admin(), json=NEW)).json()
        model_id = made["model_id"]
        patched = await client.patch(
            f"/model/{model_id}/update",
            headers=admin(),
            json={
                "model_name": "renamed",
                "litellm_params": {"api_base": "http://patched.test/v1", "api_key": "********"},
            },
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["model_name"] == "renamed"
        chat = {**CHAT, "model": "renamed"}
        assert (
            await client.post("/v1/chat/completions", headers=admin(), json=chat)
        ).status_code == 200
        # The mask sent back kept the stored key.
        assert seen[-1].url == "http://patched.test/v1/chat/completions"
        assert seen[-1].headers["authorization"] == f"Bearer {PROVIDER_KEY}"
        info = {
            m["model_name"]: m
            for m in (await client.get("/v1/model/info", headers=admin())).json()["data"]
        }
        assert info["renamed"]["litellm_params"]["api_key"] == "********"
        assert info["renamed"]["model_info"] == {
            "max_input_tokens": 1000,
            "supports_vision": True,
            "id": model_id,
            "db_model": True,
        }
        assert "api_key" not in info["m"]["litellm_params"]
        old_name = {**CHAT, "model": "db-model"}
        gone = await client.post("/v1/chat/completions", headers=admin(), json=old_name)
        assert gone.json()["error"]["code"] == "model_not_found"
        missing = await client.patch("/model/nope/update", headers=admin(), json={})
        assert missing.status_code == 404


async def test_a_stored_bare_model_name_is_resolved_as_a_config_one(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/model/new` with a bare `claude-...` and no api_key: Anthropic, ANTHROPIC_API_KEY."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-3-5-sonnet-20241022",
                "content": [{"type": "text", "text": "hi from claude"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 4},
            },
        )

    config = stored_config(database_url)
    async with running_gateway(config, tmp_path, httpx.MockTransport(handle)) as (_app, client):
        made = await client.post(
            "/model/new",
            headers=admin(),
            json={
                "model_name": "bare-claude",
                "litellm_params": {
                    "model": "claude-3-5-sonnet-20241022",
                    "api_base": "http://anthropic.test",
                },
            },
        )
        assert made.status_code == 200, made.text
        chat = {**CHAT, "model": "bare-claude"}
        reply = await client.post("/v1/chat/completions", headers=admin(), json=chat)
        assert reply.status_code == 200, reply.text
        assert reply.json()["choices"][0]["message"]["content"] == "hi from claude"
        assert seen[-1].url == "http://anthropic.test/v1/messages"
        assert seen[-1].headers["x-api-key"] == "sk-ant-from-env"
