"""Retention deletes spend logs past `maximum_spend_logs_retention_period` (rollups stay) and
stored budgets are reset when their window ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from gateway.auth import Principal
from gateway.hooks import CallRecord
from gateway.keys.hashing import hash_key
from gateway.spend.batch import write_batch
from gateway.spend.claims import CLAIM_TTL
from gateway.spend.rows import UNLOGGED, SpendLogSettings, row_from_record
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


@pytest.mark.anyio
async def test_disable_spend_logs_claims_expire(database_url: str, tmp_path: Path) -> None:
    """Under disable_spend_logs a request leaves only a claim; a batch written again counts
    nothing twice, and maintenance drops claims past `CLAIM_TTL`."""
    config = gateway_config(database_url, disable_spend_logs=True)
    async with running_gateway(config, tmp_path) as (app, client):
        accounts = state_of(app).accounts
        assert accounts is not None
        created = (await client.post("/key/generate", headers=admin(), json={})).json()
        for _ in range(2):
            answer = await client.post(
                "/v1/chat/completions", headers=bearer(created["key"]), json=CHAT
            )
            assert answer.status_code == 200
        assert await accounts.writer.flush()
        engine = accounts.db.engine

        async def count(table: Any) -> int:
            async with engine.connect() as connection:
                found = await connection.execute(select(func.count()).select_from(table))
                return int(found.scalar() or 0)

        assert (await count(tables.spend_logs), await count(tables.spend_claims)) == (0, 2)

        async def key_spend() -> float:
            async with engine.connect() as connection:
                found = await connection.execute(select(func.sum(tables.virtual_keys.c.spend)))
                return float(found.scalar() or 0.0)

        spent = await key_spend()
        assert spent > 0
        record = CallRecord(
            request_id="replayed",
            principal=Principal(kind="virtual_key", is_admin=False, token=hash_key(created["key"])),
            call_type="chat",
            model_group="m",
            body={},
        )
        row = row_from_record(record, 1.0, SpendLogSettings(keep_rows=False))
        assert row[UNLOGGED]
        assert await write_batch(accounts.db, [row]) == 1
        assert await write_batch(accounts.db, [row]) == 0  # written again: already claimed
        assert await key_spend() == pytest.approx(spent + 1.0)
        assert (await count(tables.spend_logs), await count(tables.spend_claims)) == (0, 3)
        await accounts.maintenance.run_once(datetime.now(UTC) + CLAIM_TTL - timedelta(minutes=1))
        assert await count(tables.spend_claims) == 3
        await accounts.maintenance.run_once(datetime.now(UTC) + CLAIM_TTL + timedelta(minutes=1))
        assert await count(tables.spend_claims) == 0
