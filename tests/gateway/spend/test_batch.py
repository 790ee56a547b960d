"""A batch of spend rows is stored once, every column of it, and a batch replayed (after an
unclear commit, from the journal or from another replica's stream) adds nothing: not a row,
not to the end users' spend, not to the daily rollups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.auth import Principal
from gateway.deployments import Deployment
from gateway.hooks import CallRecord
from gateway.spend.batch import write_batch
from gateway.spend.rows import Row, row_from_record
from gateway.store import Database, database_url_for, open_database, tables
from gateway.store.bulk import SLICE_ROWS


def spend_row(n: int) -> Row:
    """A row with a value other than the column's default wherever the record allows one."""
    principal = Principal(
        kind="virtual_key",
        is_admin=False,
        token=f"{n % 3:064d}",
        key_alias=f"alias-{n % 3}",
        team_id="team-a",
        user_id=f"user-{n % 2}",
    )
    body = {
        "metadata": {"tags": ["batch", f"tag-{n % 4}"], "mcp_tool_name": "search"},
        "user": f"end-{n % 5}",
    }
    record = CallRecord(f"req-{n}", principal, "chat", "group-a", body)
    record.deployment = Deployment(
        id=f"dep-{n % 2}", model_name="group-a", provider="openai", model="gpt-test"
    )
    record.prompt_tokens, record.completion_tokens, record.cached_tokens = 10 + n, 20 + n, n
    record.status, record.http_status = ("success", 200) if n % 7 else ("failure", 502)
    record.cache_hit, record.stream = n % 2 == 0, n % 3 == 0
    record.ended_at = record.started_at + 0.25
    return row_from_record(record, 0.001 * (n + 1))


@pytest.fixture
async def db(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(database_url_for(database_url, tmp_path))
    try:
        yield database
    finally:
        await database.close()


async def stored_logs(db: Database) -> dict[str, dict[str, Any]]:
    async with db.engine.connect() as connection:
        result = await connection.execute(select(tables.spend_logs))
        return {r.id: dict(r._mapping) for r in result}


def expected(row: Row) -> dict[str, Any]:
    """Every column of the table: the row's value, else the column's default."""
    values = {}
    for column in tables.spend_logs.columns:
        if column.name in row:
            values[column.name] = row[column.name]
        elif column.default is not None and column.default.is_scalar:
            values[column.name] = column.default.arg  # type: ignore[attr-defined]
        elif column.default is not None and column.default.is_callable:
            values[column.name] = column.default.arg(None)  # type: ignore[attr-defined]
        else:
            values[column.name] = None
    return values


def as_utc(stored: dict[str, Any]) -> dict[str, Any]:
    """SQLite gives naive datetimes back (stored in UTC)."""
    return {
        k: v.replace(tzinfo=UTC) if getattr(v, "tzinfo", 0) is None else v
        for k, v in stored.items()
    }


@pytest.mark.anyio
async def test_every_row_and_column_stored_once_and_a_replay_adds_nothing(db: Database) -> None:
    rows = [spend_row(n) for n in range(2 * SLICE_ROWS + 3)]
    assert await write_batch(db, rows) == len(rows)
    stored = await stored_logs(db)
    assert set(stored) == {r["id"] for r in rows}
    for row in rows:
        assert as_utc(stored[row["id"]]) == expected(row)

    async def totals() -> tuple[Any, ...]:
        async with db.engine.connect() as connection:
            daily = (
                await connection.execute(
                    select(
                        func.sum(tables.daily_spend.c.requests),
                        func.sum(tables.daily_spend.c.failures),
                        func.sum(tables.daily_spend.c.prompt_tokens),
                        func.sum(tables.daily_spend.c.spend),
                    )
                )
            ).one()
            tags = (
                await connection.execute(
                    select(tables.daily_tag_spend.c.tag, tables.daily_tag_spend.c.requests)
                )
            ).all()
            users = (await connection.execute(select(func.sum(tables.end_users.c.spend)))).one()
        return tuple(daily), sorted(tags), tuple(users)

    once = await totals()
    (requests, failures, prompt, spend), tags, (user_spend,) = once
    assert requests == len(rows) and failures == sum(1 for r in rows if r["status"] != "success")
    assert prompt == sum(r["prompt_tokens"] for r in rows)
    assert spend == pytest.approx(sum(r["spend"] for r in rows))
    assert user_spend == pytest.approx(spend)
    assert dict(tags)["batch"] == len(rows)

    # the same batch again, and again with a duplicate inside and new rows after it
    assert await write_batch(db, rows) == 0
    more = [spend_row(n) for n in range(1000, 1004)]
    assert await write_batch(db, [*rows[:5], rows[0], *more, more[0]]) == len(more)
    assert set(await stored_logs(db)) == {r["id"] for r in [*rows, *more]}
    (requests, *_), tags, _ = await totals()
    assert requests == len(rows) + len(more)
    assert dict(tags)["batch"] == len(rows) + len(more)
