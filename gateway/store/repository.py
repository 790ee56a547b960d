"""Row-level reads and writes for the entity tables (keys, teams, users, end users).

Rows go in and out as plain dicts of column values; `gateway.keys.model` turns them into
dataclasses. Every function raises `StoreUnavailableError` when the database is unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.store.database import (
    UNAVAILABLE_ERRORS,
    Database,
    StoreUnavailableError,
    refused_row,
)

Row = dict[str, Any]


class DuplicateError(Exception):
    """A unique column (primary key or alias) already holds this value."""


class RefusedValueError(Exception):
    """The database refused a value (too long, out of range): bad input, not an outage."""


def _plain(row: Any) -> Row:
    # Column names come back as sqlalchemy `quoted_name` (a str subclass) that orjson refuses.
    return {str(k): v for k, v in row._asdict().items()}


def _pk(table: Table) -> Any:
    return next(iter(table.primary_key.columns))


def now() -> datetime:
    return datetime.now(UTC)


def _unavailable(db: Database, exc: BaseException) -> Exception:
    if refused_row(exc):
        return RefusedValueError(str(getattr(exc, "orig", exc)))
    db.mark(False, exc)
    return StoreUnavailableError(f"database unavailable: {exc}")


async def fetch_all(db: Database, table: Table) -> list[Row]:
    try:
        async with db.engine.connect() as connection:
            result = await connection.execute(select(table))
            rows = [_plain(r) for r in result]
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
    db.mark(True)
    return rows


async def fetch_where(db: Database, table: Table, **equals: Any) -> list[Row]:
    query = select(table)
    for name, value in equals.items():
        query = query.where(table.c[name] == value)
    try:
        async with db.engine.connect() as connection:
            rows = [_plain(r) for r in await connection.execute(query)]
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
    db.mark(True)
    return rows


async def fetch_one(db: Database, table: Table, pk: str) -> Row | None:
    rows = await fetch_where(db, table, **{_pk(table).name: pk})
    return rows[0] if rows else None


async def insert_row(db: Database, table: Table, values: Mapping[str, Any]) -> Row:
    stamp = now()
    row = {"created_at": stamp, "updated_at": stamp, **values}
    try:
        async with db.engine.begin() as connection:
            await connection.execute(insert(table).values(**row))
    except IntegrityError as exc:
        raise DuplicateError(str(exc.orig)) from exc
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
    found = await fetch_one(db, table, row[_pk(table).name])
    assert found is not None
    return found


async def update_row(db: Database, table: Table, pk: str, values: Mapping[str, Any]) -> Row | None:
    column = _pk(table)
    try:
        async with db.engine.begin() as connection:
            result = await connection.execute(
                update(table).where(column == pk).values(**values, updated_at=now())
            )
            if result.rowcount == 0:
                return None
    except IntegrityError as exc:
        raise DuplicateError(str(exc.orig)) from exc
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
    return await fetch_one(db, table, pk)


async def replace_pk(db: Database, table: Table, old: str, new_values: Mapping[str, Any]) -> Row:
    """Swap a row for one with a new primary key in one transaction (key regeneration)."""
    column = _pk(table)
    try:
        async with db.engine.begin() as connection:
            current = (await connection.execute(select(table).where(column == old))).first()
            if current is None:
                raise KeyError(old)
            row = {**_plain(current), **new_values, "updated_at": now()}
            await connection.execute(delete(table).where(column == old))
            await connection.execute(insert(table).values(**row))
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
    return row


async def delete_rows(db: Database, table: Table, pks: Iterable[str]) -> list[str]:
    column = _pk(table)
    wanted = list(pks)
    try:
        async with db.engine.begin() as connection:
            found = [
                r[0] for r in await connection.execute(select(column).where(column.in_(wanted)))
            ]
            if found:
                await connection.execute(delete(table).where(column.in_(found)))
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
    return [str(pk) for pk in found]


async def reset_budgets(
    db: Database, tables: Sequence[Table], due: datetime, next_reset: Mapping[str, datetime]
) -> None:
    """Zero `spend` where the budget window ended; `next_reset` maps budget_duration -> end."""
    try:
        async with db.engine.begin() as connection:
            for table in tables:
                for duration, reset_at in next_reset.items():
                    await connection.execute(
                        update(table)
                        .where(table.c.budget_reset_at <= due)
                        .where(table.c.budget_duration == duration)
                        .values(spend=0.0, budget_reset_at=reset_at)
                    )
    except UNAVAILABLE_ERRORS as exc:
        raise _unavailable(db, exc) from exc
