"""`litellm_settings.max_budget` with `budget_duration`: one budget for every model call the
proxy serves, on SQLite and PostgreSQL. A call costs exactly 1.0 here (10 + 10 tokens at 0.05)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from common.config.errors import ConfigError
from gateway.config import config_from_mapping
from tests.gateway.store.databases import CHAT, admin, bearer, gateway_config, running_gateway

pytestmark = pytest.mark.anyio


def with_proxy_budget(database_url: str, **settings: Any) -> dict[str, Any]:
    config = gateway_config(database_url)
    config["litellm_settings"] = settings
    return config


async def test_model_calls_stop_when_the_proxy_has_spent_its_budget(
    database_url: str, tmp_path: Path
) -> None:
    config = with_proxy_budget(database_url, max_budget=2.5, budget_duration="1d")
    async with running_gateway(config, tmp_path) as (_app, client):
        key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
        chat = "/v1/chat/completions"
        # Every caller's spend counts: a virtual key, then the master key.
        assert (await client.post(chat, headers=bearer(key), json=CHAT)).status_code == 200
        assert (await client.post(chat, headers=admin(), json=CHAT)).status_code == 200
        assert (await client.post(chat, headers=bearer(key), json=CHAT)).status_code == 200
        for headers in (bearer(key), admin()):
            refused = await client.post(chat, headers=headers, json=CHAT)
            assert refused.status_code == 422
            error = refused.json()["error"]
            assert error["code"] == "budget_exceeded"
            assert "litellm_settings.max_budget" in error["message"]
            assert "current spend 3.000000" in error["message"]
            # a 1d window ends at the next midnight UTC
            midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            assert f"Resets at {(midnight + timedelta(days=1)).isoformat()}" in error["message"]
            assert 0 < int(refused.headers["retry-after"]) <= 86400
        # Management and the model list still answer.
        assert (await client.get("/v1/models", headers=bearer(key))).status_code == 200
        assert (await client.get("/key/info", headers=bearer(key))).status_code == 200

    # A restart counts the window again from the spend logs.
    async with running_gateway(config, tmp_path) as (_app, client):
        refused = await client.post("/v1/chat/completions", headers=admin(), json=CHAT)
        assert refused.status_code == 422 and "current spend 3.000000" in refused.text


async def test_zero_is_off_as_in_litellm(database_url: str, tmp_path: Path) -> None:
    config = with_proxy_budget(database_url, max_budget=0, budget_duration="1d")
    async with running_gateway(config, tmp_path) as (_app, client):
        for _ in range(3):
            answer = await client.post("/v1/chat/completions", headers=admin(), json=CHAT)
            assert answer.status_code == 200


def test_a_budget_without_a_window_or_with_a_bad_one_is_a_config_error() -> None:
    base = gateway_config(None)
    with pytest.raises(ConfigError, match=r"litellm_settings\.max_budget: .*needs budget_duration"):
        config_from_mapping({**base, "litellm_settings": {"max_budget": 5}})
    with pytest.raises(ConfigError, match=r"litellm_settings\.budget_duration: invalid duration"):
        config_from_mapping(
            {**base, "litellm_settings": {"max_budget": 5, "budget_duration": "sometimes"}}
        )


async def test_every_budget_refusal_takes_the_configured_status(
    database_url: str, tmp_path: Path
) -> None:
    """LiteLLM 1.106.2 answers a budget refusal with 422, `type: budget_exceeded`;
    `budget_exceeded_status_code` restores the older 429 for clients that expect it."""
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = (
            await client.post("/key/generate", headers=admin(), json={"max_budget": 0.5})
        ).json()["key"]
        assert (
            await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        ).status_code == 200
        refused = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        assert refused.status_code == 422
        assert refused.json()["error"]["type"] == "budget_exceeded"
        messages = await client.post(
            "/v1/messages",
            headers=bearer(key),
            json={"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert messages.status_code == 422  # Anthropic's shape, a type its SDK will not retry
        assert messages.json()["error"]["type"] == "invalid_request_error"

    # The same store: the proxy's window starts at the 1.0 spent above.
    config = with_proxy_budget(
        database_url, max_budget=4, budget_duration="1d", budget_exceeded_status_code=429
    )
    async with running_gateway(config, tmp_path / "older") as (_app, client):
        key = (
            await client.post(
                "/key/generate",
                headers=admin(),
                json={"max_budget": 2, "model_max_budget": {"other": 0.5}},
            )
        ).json()["key"]
        chat = "/v1/chat/completions"
        assert (await client.post(chat, headers=bearer(key), json=CHAT)).status_code == 200
        other = {**CHAT, "model": "other"}
        assert (await client.post(chat, headers=bearer(key), json=other)).status_code == 200
        refusals = [
            await client.post(chat, headers=bearer(key), json=other),  # model_max_budget
            await client.post(chat, headers=bearer(key), json=CHAT),  # the key's max_budget
        ]
        last = await client.post(chat, headers=admin(), json=CHAT)
        assert last.status_code == 200, last.text
        refusals.append(await client.post(chat, headers=admin(), json=CHAT))  # the proxy's
        assert [r.status_code for r in refusals] == [429, 429, 429]
        assert all(r.json()["error"]["code"] == "budget_exceeded" for r in refusals)
