"""Spend on providers priced from the generated table, and budgets on models with no price:
the gateway with its lifespan, a SQLite store, and an upstream that reports usage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.gateway.store.databases import MASTER, admin, bearer, running_gateway

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


def config(database_url: str, **general: Any) -> dict[str, Any]:
    params = {"api_base": "http://upstream.test/v1", "api_key": "upstream-key"}
    return {
        "model_list": [
            {
                "model_name": "groq-llama",
                "litellm_params": {"model": "groq/llama-3.3-70b-versatile", **params},
            },
            {
                "model_name": "router-4o",
                "litellm_params": {"model": "openrouter/openai/gpt-4o", **params},
            },
            {"model_name": "finetune", "litellm_params": {"model": "openai/my-finetune", **params}},
        ],
        "general_settings": {"master_key": MASTER, "database_url": database_url, **general},
    }


async def _budget_key(client: Any) -> str:
    created = await client.post("/key/generate", json={"max_budget": 10.0}, headers=admin())
    assert created.status_code == 200, created.text
    key: str = created.json()["key"]
    return key


@pytest.mark.anyio
async def test_groq_and_openrouter_models_cost_money(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with running_gateway(config(url), tmp_path) as (_app, client):
        key = await _budget_key(client)
        for model in ("groq-llama", "router-4o"):
            answer = await client.post(
                "/v1/chat/completions", json={"model": model, **CHAT}, headers=bearer(key)
            )
            assert answer.status_code == 200, answer.text
        info = await client.get("/key/info", params={"key": key}, headers=admin())
    # 10 prompt + 10 completion tokens each (the upstream's usage), at the table's prices
    groq = 10 * 0.59e-6 + 10 * 0.79e-6
    openrouter = 10 * 2.5e-6 + 10 * 10e-6
    assert info.json()["info"]["spend"] == pytest.approx(groq + openrouter)


@pytest.mark.anyio
async def test_a_budgeted_key_is_refused_an_unpriced_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with structlog.testing.capture_logs() as logs:
        async with running_gateway(config(url), tmp_path) as (_app, client):
            key = await _budget_key(client)
            refused = await client.post(
                "/v1/chat/completions", json={"model": "finetune", **CHAT}, headers=bearer(key)
            )
            unbudgeted = (await client.post("/key/generate", json={}, headers=admin())).json()
            allowed = await client.post(
                "/v1/chat/completions",
                json={"model": "finetune", **CHAT},
                headers=bearer(unbudgeted["key"]),
            )
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unpriced_model"
    assert "model=finetune has no price" in error["message"]
    assert allowed.status_code == 200, allowed.text
    start_up = [e for e in logs if str(e["event"]).startswith("no price for these deployments")]
    assert len(start_up) == 1
    assert start_up[0]["deployments"] == ["finetune (openai/my-finetune)"]


@pytest.mark.anyio
async def test_allow_unpriced_models_lets_budgeted_keys_through(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with running_gateway(config(url, allow_unpriced_models=True), tmp_path) as (_a, client):
        key = await _budget_key(client)
        answer = await client.post(
            "/v1/chat/completions", json={"model": "finetune", **CHAT}, headers=bearer(key)
        )
    assert answer.status_code == 200, answer.text
