"""The driver-level bulk insert stores exactly what SQLAlchemy's own INSERT stores, for every
column of the table (a column added to a table needs no change in it), each row once, and
returns only the keys of the rows that were new."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)

from gateway.store import Database, database_url_for, open_database
from gateway.store.bulk import SLICE_ROWS, UnsupportedDefaultError, insert_new


def twin_tables() -> tuple[MetaData, Table, Table]:
    """Two tables of the same columns, one of each kind the store uses (with the `end_user`
    and `user` names, which need quoting on PostgreSQL), under fresh names."""
    metadata = MetaData()
    suffix = uuid.uuid4().hex[:8]

    def table(name: str) -> Table:
        return Table(
            f"bulk_{name}_{suffix}",
            metadata,
            Column("id", String(32), primary_key=True),
            Column("user", String(255), nullable=True),
            Column("end_user", String(255), nullable=True),
            Column("tokens", BigInteger, nullable=False, default=0),
            Column("status", Integer, nullable=False),
            Column("spend", Float, nullable=False, default=0.0),
            Column("at", DateTime(timezone=True), nullable=False),
            Column("flag", Boolean, nullable=False, default=False),
            Column("tags", JSON, nullable=False, default=list),
            Column("extra", JSON, nullable=True),
        )

    return metadata, table("driver"), table("sqlalchemy")


def a_row(n: int) -> dict[str, Any]:
    return {
        "id": f"row-{n:05d}",
        "user": f"u-{n % 7}" if n % 3 else None,
        "end_user": "ü" * (n % 5),
        "tokens": 2**53 - n,
        "status": 200 + n % 3,
        "spend": n / 7,
        "at": datetime(2026, 12, 5, 10, 0, tzinfo=UTC) + timedelta(microseconds=n * 1001),
        "flag": n % 2 == 0,
        "tags": [f"t{n}", "shared"] if n % 4 else [],
        "extra": {"n": n, "nested": [1, "x", None]} if n % 2 else None,
    }


@pytest.fixture
async def db(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(database_url_for(database_url, tmp_path))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def twins(db: Database) -> AsyncIterator[tuple[Table, Table]]:
    metadata, driver, plain = twin_tables()
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield driver, plain
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)


async def raw_rows(db: Database, table: Table) -> list[tuple[Any, ...]]:
    """The stored values as the driver returns them, without SQLAlchemy's result processing:
    the stored form itself (SQLite's DATETIME and JSON text)."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    async with db.engine.connect() as connection:
        result = await connection.exec_driver_sql(f'SELECT {names} FROM "{table.name}" ORDER BY id')
        return [tuple(r) for r in result]


@pytest.mark.anyio
async def test_stores_every_column_as_sqlalchemy_does(
    db: Database, twins: tuple[Table, Table]
) -> None:
    driver, plain = twins
    rows = [a_row(n) for n in range(3 * SLICE_ROWS + 5)]  # several slices
    async with db.engine.begin() as connection:
        new = await insert_new(connection, driver, "id", rows)
        await connection.execute(insert(plain), rows)
    assert new == {r["id"] for r in rows}
    stored = await raw_rows(db, driver)
    assert stored == await raw_rows(db, plain)
    assert len(stored) == len(rows) and len(stored[0]) == len(driver.columns)
    async with db.engine.connect() as connection:
        read = [dict(r._mapping) for r in await connection.execute(select(driver).order_by("id"))]
    for got, row in zip(read, rows, strict=True):
        at = got.pop("at")
        assert (at if at.tzinfo else at.replace(tzinfo=UTC)) == row["at"]
        assert got == {k: v for k, v in row.items() if k != "at"}


@pytest.mark.anyio
async def test_a_stored_key_is_skipped_and_not_returned(
    db: Database, twins: tuple[Table, Table]
) -> None:
    driver, _ = twins
    first = [a_row(n) for n in range(10)]
    async with db.engine.begin() as connection:
        assert await insert_new(connection, driver, "id", first) == {r["id"] for r in first}
    changed = [{**r, "tokens": 1, "tags": ["replayed"]} for r in first[5:]]
    later = [a_row(n) for n in range(10, 13)]
    async with db.engine.begin() as connection:
        new = await insert_new(connection, driver, "id", [*changed, *later])
    assert new == {r["id"] for r in later}
    async with db.engine.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(driver))).scalar()
        kept = await connection.execute(select(driver.c.tokens).where(driver.c.id == "row-00007"))
    assert count == 13
    assert kept.scalar() == 2**53 - 7  # the first write stays


@pytest.mark.anyio
async def test_more_rows_than_one_statement_takes(db: Database, twins: tuple[Table, Table]) -> None:
    driver, _ = twins
    async with db.engine.connect() as connection:
        per_statement = connection.dialect.insertmanyvalues_max_parameters // len(driver.columns)
    rows = [a_row(n) for n in range(per_statement + 7)]
    async with db.engine.begin() as connection:
        assert len(await insert_new(connection, driver, "id", rows)) == len(rows)
    async with db.engine.connect() as connection:
        stored = (await connection.execute(select(driver.c.id).order_by("id"))).scalars().all()
    assert stored == [r["id"] for r in rows]


@pytest.mark.anyio
async def test_a_missing_value_gets_the_column_default(
    db: Database, twins: tuple[Table, Table]
) -> None:
    """A row written before a column existed (replayed from a journal or the spend stream)."""
    driver, _ = twins
    old = {k: v for k, v in a_row(1).items() if k not in ("tokens", "spend", "flag", "tags")}
    old.pop("extra")
    async with db.engine.begin() as connection:
        await insert_new(connection, driver, "id", [a_row(0), old])
    async with db.engine.connect() as connection:
        got = (await connection.execute(select(driver).where(driver.c.id == old["id"]))).one()
    assert (got.tokens, got.spend, got.flag, got.tags, got.extra) == (0, 0.0, False, [], None)


@pytest.mark.anyio
async def test_a_default_only_the_database_computes_is_refused(db: Database) -> None:
    metadata = MetaData()
    table = Table(
        f"bulk_sqldefault_{uuid.uuid4().hex[:8]}",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("n", Integer, nullable=False, default=text("1")),
    )
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        async with db.engine.begin() as connection:
            assert await insert_new(connection, table, "id", [{"id": "a", "n": 2}]) == {"a"}
            with pytest.raises(UnsupportedDefaultError):
                await insert_new(connection, table, "id", [{"id": "b"}])
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
