"""`/v1/responses` on a real store (SQLite and PostgreSQL) against the fake upstream: a
virtual key's call is priced and logged like a chat call, whether passed through (`openai/`)
or translated (`anthropic/`); stored responses continue a conversation, expired ones are gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import update

from gateway.responses_api.store import stored_responses
from testing.fake_upstream import FakeUpstream, serve_in_thread
from tests.gateway.store.databases import (
    MASTER,
    PRICE,
    admin,
    gateway_config,
    running_gateway,
    state_of,
)

UPSTREAM_KEY = "sk-responses-upstream"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(FakeUpstream(require_key=UPSTREAM_KEY)) as base:
        yield base


def _config(database_url: str, upstream: str) -> dict[str, Any]:
    config = gateway_config(database_url, responses_retention_period="1d")
    prices = {"input_cost_per_token": PRICE, "output_cost_per_token": PRICE}
    for entry, (name, model, base) in zip(
        config["model_list"],
        [("m", "openai/echo", f"{upstream}/v1"), ("other", "anthropic/echo", upstream)],
        strict=True,
    ):
        entry.update(
            {
                "model_name": name,
                "litellm_params": {
                    "model": model,
                    "api_base": base,
                    "api_key": UPSTREAM_KEY,
                    **prices,
                },
            }
        )
    return config


@pytest.mark.anyio
async def test_virtual_key_spend_history_and_expiry(
    database_url: str, tmp_path: Path, upstream: str
) -> None:
    real = httpx.AsyncHTTPTransport()
    async with running_gateway(_config(database_url, upstream), tmp_path, real) as (app, http):
        key = (await http.post("/key/generate", headers=admin(), json={"models": ["m"]})).json()[
            "key"
        ]
        sdk = openai.AsyncOpenAI(api_key=key, base_url="http://gw/v1", http_client=http)
        first = await sdk.responses.create(model="m", input="hi")
        assert first.output_text == "hi"
        assert first.usage is not None
        info = await http.get("/key/info", params={"key": key}, headers=admin())
        expected = (first.usage.input_tokens + first.usage.output_tokens) * PRICE
        assert info.json()["info"]["spend"] == pytest.approx(expected)

        second = await sdk.responses.create(model="m", input="more", previous_response_id=first.id)
        assert second.previous_response_id == first.id
        with pytest.raises(openai.PermissionDeniedError):
            await sdk.responses.create(model="other", input="x")

        accounts = state_of(app).accounts
        assert accounts is not None
        await accounts.writer.flush()
        rows = (await http.get("/spend/logs", headers=admin(), params={"api_key": key})).json()
        assert sorted(r["call_type"] for r in rows) == ["responses", "responses"]

        # A response past its retention is as good as deleted.
        async with accounts.db.engine.begin() as connection:
            await connection.execute(
                update(stored_responses)
                .where(stored_responses.c.id == first.id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        with pytest.raises(openai.NotFoundError):
            await sdk.responses.retrieve(first.id)
        assert (await sdk.responses.retrieve(second.id)).output_text == "more"

        # Translated onto chat (anthropic/), the admin's call is logged the same way.
        admin_sdk = openai.AsyncOpenAI(api_key=MASTER, base_url="http://gw/v1", http_client=http)
        translated = await admin_sdk.responses.create(model="other", input="translated")
        assert translated.output_text == "translated"
        await accounts.writer.flush()
        rows = (await http.get("/spend/logs", headers=admin(), params={"model": "other"})).json()
        assert [r["call_type"] for r in rows] == ["responses"] and rows[0]["spend"] > 0
