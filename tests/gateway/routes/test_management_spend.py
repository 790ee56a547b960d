"""Spend tracking end to end on SQLite and PostgreSQL: a LiteLLM key-API script unchanged,
spend headers, `/spend/logs` (rows, filters, daily summary) and `/spend/tags`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import openai
import pytest

from tests.gateway.store.databases import (
    CHAT,
    MASTER,
    admin,
    bearer,
    database_url,
    gateway_config,
    postgres_database,
    running_gateway,
    state_of,
)

__all__ = ["database_url", "postgres_database"]


@pytest.mark.anyio
async def test_litellm_key_script_works_unchanged(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (app, _client):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            # As in LiteLLM's docs: generate a key with models and a budget...
            generated = await http.post(
                "/key/generate",
                headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"},
                json={"models": ["m"], "max_budget": 10, "metadata": {"user": "ishaan"}},
            )
            key = generated.json()["key"]
            # ...call the proxy with it through the OpenAI SDK...
            sdk = openai.AsyncOpenAI(api_key=key, base_url="http://gw", http_client=http)
            reply = await sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], user="palantir"
            )
            assert reply.choices[0].message.content == "hi"
            raw = await sdk.chat.completions.with_raw_response.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
            assert raw.headers["x-litellm-key-spend"] == "2.0"
            assert raw.headers["x-litellm-key-max-budget"] == "10.0"
            with pytest.raises(openai.PermissionDeniedError):
                await sdk.chat.completions.create(
                    model="other", messages=[{"role": "user", "content": "hi"}]
                )
            # ...and read the key's spend.
            info = await http.get(
                "/key/info", params={"key": key}, headers={"Authorization": f"Bearer {MASTER}"}
            )
            assert info.json()["info"]["spend"] == 2.0
            assert info.json()["info"]["max_budget"] == 10
        assert await state_of(app).accounts.writer.flush()  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_spend_logs_filters_summary_and_tags(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (app, client):
        key = (
            await client.post(
                "/key/generate", headers=admin(), json={"team_id": None, "user_id": "u1"}
            )
        ).json()["key"]
        tagged = {**CHAT, "metadata": {"tags": ["jobA", "batch"]}, "user": "end-1"}
        assert (
            await client.post("/v1/chat/completions", headers=bearer(key), json=tagged)
        ).status_code == 200
        streamed = {**CHAT, "model": "other", "stream": True, "tags": ["batch"]}
        response = await client.post("/v1/chat/completions", headers=bearer(key), json=streamed)
        assert response.status_code == 200 and response.text.endswith("[DONE]\n\n")
        assert (
            await client.post("/v1/chat/completions", headers=admin(), json=CHAT)
        ).status_code == 200
        assert await state_of(app).accounts.writer.flush()  # type: ignore[union-attr]

        rows = (await client.get("/spend/logs", headers=admin())).json()
        assert len(rows) == 3
        mine = (await client.get("/spend/logs", headers=admin(), params={"api_key": key})).json()
        assert len(mine) == 2 and {r["model_group"] for r in mine} == {"m", "other"}
        stream_row = next(r for r in mine if r["model_group"] == "other")
        # The stream's usage is priced like any other call: 10 + 10 tokens at 0.05.
        assert stream_row["spend"] == 1.0 and stream_row["stream"] is True
        tagged_row = next(r for r in mine if r["model_group"] == "m")
        assert tagged_row["request_tags"] == ["jobA", "batch"] and tagged_row["end_user"] == "end-1"
        assert tagged_row["user"] == "u1" and tagged_row["total_tokens"] == 20
        by_model = (
            await client.get("/spend/logs", headers=admin(), params={"model": "other"})
        ).json()
        assert len(by_model) == 1
        by_id = (
            await client.get(
                "/spend/logs", headers=admin(), params={"request_id": rows[0]["request_id"]}
            )
        ).json()
        assert [r["request_id"] for r in by_id] == [rows[0]["request_id"]]

        today = datetime.now(UTC).date().isoformat()
        summary = (
            await client.get(
                "/spend/logs", headers=admin(), params={"start_date": today, "end_date": today}
            )
        ).json()
        assert len(summary) == 1 and summary[0]["spend"] == 3.0 and summary[0]["requests"] == 3
        assert summary[0]["models"] == {"m": 2.0, "other": 1.0}
        raw = (
            await client.get(
                "/spend/logs",
                headers=admin(),
                params={"start_date": today, "end_date": today, "summarize": "false"},
            )
        ).json()
        assert len(raw) == 3

        tags = (await client.get("/spend/tags", headers=admin())).json()
        assert tags == [
            {"individual_request_tag": "batch", "log_count": 2, "total_spend": 2.0},
            {"individual_request_tag": "jobA", "log_count": 1, "total_spend": 1.0},
        ]
        bad = await client.get("/spend/logs", headers=admin(), params={"start_date": "yesterday"})
        assert bad.status_code == 400

        # The stored running totals caught up with the in-memory ones.
        info = await client.get("/user/info", params={"user_id": "u1"}, headers=admin())
        assert info.status_code == 404  # users are not created implicitly...
        customer = (
            await client.get("/customer/info", params={"end_user_id": "end-1"}, headers=admin())
        ).json()
        assert customer["spend"] == 1.0  # ...but end users are, as in LiteLLM
