"""Retention deletes spend logs past `maximum_spend_logs_retention_period` (rollups stay) and
stored budgets are reset when their window ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from gateway.store import tables
from tests.gateway.store.databases import (
    CHAT,
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
async def test_retention_and_budget_reset(database_url: str, tmp_path: Path) -> None:
    config = gateway_config(database_url, maximum_spend_logs_retention_period="7d")
    async with running_gateway(config, tmp_path) as (app, client):
        accounts = state_of(app).accounts
        assert accounts is not None and accounts.maintenance.retention == timedelta(days=7)
        created = (
            await client.post(
                "/key/generate", headers=admin(), json={"max_budget": 5, "budget_duration": "1d"}
            )
        ).json()
        for _ in range(3):
            assert (
                await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=CHAT)
            ).status_code == 200
        assert await accounts.writer.flush()
        engine = accounts.db.engine
        async with engine.begin() as connection:
            old = datetime.now(UTC) - timedelta(days=8)
            first = (await connection.execute(select(tables.spend_logs.c.id).limit(1))).scalar()
            await connection.execute(
                update(tables.spend_logs)
                .where(tables.spend_logs.c.id == first)
                .values(start_time=old, end_time=old)
            )
        later = datetime.now(UTC) + timedelta(days=1, seconds=1)
        assert await accounts.maintenance.run_once(later) == 1
        async with engine.connect() as connection:
            logs = (
                await connection.execute(select(func.count()).select_from(tables.spend_logs))
            ).scalar()
            rollup = (
                await connection.execute(select(func.sum(tables.daily_spend.c.requests)))
            ).scalar()
            key_row = (await connection.execute(select(tables.virtual_keys))).one()
        assert logs == 2 and rollup == 3
        assert key_row.spend == 0.0  # the day is over: the stored budget starts again
