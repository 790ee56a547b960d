"""A row the database refuses is set aside (and logged) instead of blocking the rows behind it;
odd input (very long end-user ids, absurd token counts) is stored, clipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.auth import Principal
from gateway.hooks import CallRecord
from gateway.spend.rows import row_from_record
from gateway.spend.writer import REJECTED_FILENAME, SpendWriter
from gateway.store import database_url_for, open_database, tables
from tests.gateway.store.databases import database_url, postgres_database

__all__ = ["database_url", "postgres_database"]


def a_row(**body: object) -> dict[str, object]:
    record = CallRecord("req", Principal(kind="open", is_admin=True), "chat", "m", dict(body))
    record.prompt_tokens = 2**70
    record.ended_at = record.started_at
    return row_from_record(record, 0.5)


@pytest.mark.anyio
async def test_refused_rows_are_set_aside_and_odd_input_is_clipped(
    database_url: str, tmp_path: Path
) -> None:
    db = await open_database(database_url_for(database_url, tmp_path))
    try:
        writer = SpendWriter(db=db, spill_path=tmp_path / "spill.jsonl")
        good = a_row(user="u" * 1000, metadata={"tags": ["t" * 1000]})
        bad = {**a_row(), "id": "x" * 40}  # longer than the id column allows on PostgreSQL
        writer.enqueue(good)
        writer.enqueue(bad)
        writer.enqueue(a_row())
        assert await writer.flush()
        async with db.engine.connect() as connection:
            count = (
                await connection.execute(select(func.count()).select_from(tables.spend_logs))
            ).scalar()
            stored = (
                await connection.execute(
                    select(tables.spend_logs).where(tables.spend_logs.c.id == good["id"])
                )
            ).one()
        assert stored.end_user == "u" * 255 and stored.prompt_tokens == 2**53
        if db.dialect == "postgresql":
            assert count == 2 and writer.rejected == 1
            assert (tmp_path / REJECTED_FILENAME).read_text().count("\n") == 1
        else:  # SQLite does not enforce VARCHAR lengths
            assert count == 3 and writer.rejected == 0
    finally:
        await db.close()
