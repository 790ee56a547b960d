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
            assert refused.status_code == 429
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
        assert refused.status_code == 429 and "current spend 3.000000" in refused.text


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
