"""`/v1/responses` on a real store (SQLite and PostgreSQL): a virtual key's call is priced and
logged like a chat call, stored responses continue a conversation, and expired ones are gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openai
import pytest
from sqlalchemy import update

from gateway.responses_api.store import stored_responses
from tests.gateway.store.databases import admin, gateway_config, running_gateway, state_of


@pytest.mark.anyio
async def test_virtual_key_spend_history_and_expiry(database_url: str, tmp_path: Path) -> None:
    config = gateway_config(database_url, responses_retention_period="1d")
    async with running_gateway(config, tmp_path) as (app, http):
        key = (await http.post("/key/generate", headers=admin(), json={"models": ["m"]})).json()[
            "key"
        ]
        sdk = openai.AsyncOpenAI(api_key=key, base_url="http://gw/v1", http_client=http)
        first = await sdk.responses.create(model="m", input="hi")
        assert first.output_text == "hi"
        # 10 + 10 tokens at 0.05 each, exactly as for /chat/completions
        info = await http.get("/key/info", params={"key": key}, headers=admin())
        assert info.json()["info"]["spend"] == 1.0

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
        assert (await sdk.responses.retrieve(second.id)).output_text == "hi"
