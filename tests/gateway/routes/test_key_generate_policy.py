"""`litellm_settings.default_key_generate_params` and `upperbound_key_generate_params`, through
the real key routes (SQLite): defaults fill what a request leaves out, bounds refuse more and
fill what is missing, for the master key too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.store.databases import admin, gateway_config, running_gateway


def _config() -> dict[str, Any]:
    config = gateway_config(None)
    config["litellm_settings"] = {
        "default_key_generate_params": {
            "max_budget": 1.5,
            "models": ["m"],
            "metadata": {"team": "default"},
            "rpm_limit": 10,
        },
        "upperbound_key_generate_params": {
            "max_budget": 10,
            "rpm_limit": 100,
            "duration": "30d",
            "budget_duration": "1mo",
        },
    }
    return config


async def _generate(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/key/generate", headers=admin(), json=body)


@pytest.mark.anyio
async def test_defaults_fill_what_the_request_leaves_out(tmp_path: Path) -> None:
    async with running_gateway(_config(), tmp_path) as (_app, client):
        plain = (await _generate(client, {})).json()
        assert plain["max_budget"] == 1.5 and plain["models"] == ["m"]
        assert plain["metadata"] == {"team": "default"} and plain["rpm_limit"] == 10
        assert plain["expires"] is not None  # the bound's duration, 30d
        own = (await _generate(client, {"max_budget": 4, "models": ["other"]})).json()
        assert own["max_budget"] == 4 and own["models"] == ["other"]


@pytest.mark.anyio
async def test_bounds_refuse_more_on_generate_update_and_regenerate(tmp_path: Path) -> None:
    async with running_gateway(_config(), tmp_path) as (_app, client):
        for body, param in [
            ({"max_budget": 11}, "max_budget"),
            ({"rpm_limit": 101}, "rpm_limit"),
            ({"duration": "31d"}, "duration"),
            ({"budget_duration": "2mo"}, "budget_duration"),
        ]:
            refused = await _generate(client, body)
            assert refused.status_code == 400, body
            error = refused.json()["error"]
            assert error["param"] == param and "upperbound_key_generate_params" in error["message"]
        key = (await _generate(client, {"max_budget": 10})).json()["key"]
        update = await client.post(
            "/key/update", headers=admin(), json={"key": key, "max_budget": 50}
        )
        assert update.status_code == 400
        within = await client.post(
            "/key/update", headers=admin(), json={"key": key, "max_budget": 9}
        )
        assert within.status_code == 200 and within.json()["max_budget"] == 9
        regenerate = await client.post(
            "/key/regenerate", headers=admin(), json={"key": key, "rpm_limit": 1000}
        )
        assert regenerate.status_code == 400
