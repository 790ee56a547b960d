"""An idempotent bulk INSERT at the driver: many rows into one table, the rows whose key is
stored already skipped (`ON CONFLICT (key) DO NOTHING`, on SQLite and PostgreSQL alike), and
the keys of the rows that were new returned.

Why not SQLAlchemy's executemany: with RETURNING it builds every row's parameters through its
compiled statement on the event loop, a whole batch in one callback (a 500-row spend batch:
3-5 ms of CPU at saturation, the longest callbacks of the gateway's loop; bench/loop_stall.py).
Here each row is taken with one `itemgetter` in the table's column order, each column that
needs it goes through the dialect's own bind processor (so the stored form is exactly
SQLAlchemy's: SQLite's DATETIME text, JSON text), `SLICE_ROWS` rows between two turns of the
loop, and the driver gets one statement:

- SQLite: `INSERT ... VALUES (?, ...), (?, ...) ... RETURNING key`, as many rows a statement
  as the dialect's parameter limit allows;
- PostgreSQL: `INSERT ... SELECT * FROM unnest($1::type[], ...) ... RETURNING key`, one array
  a column, one prepared statement whatever the number of rows.

The column list is the table's: a column added to the table is written with no change here.
A row without a value for a column gets the column's Python-side default, else NULL (also
for a column with only a server-side default: give such a column a Python-side one too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

BulkRow = Mapping[str, Any]
# rows whose parameters are built between two turns of the event loop
SLICE_ROWS = 64


class UnsupportedDefaultError(TypeError):
    """A row lacks a column whose default only the database can compute (a SQL expression or
    a sequence); the bulk insert cannot fill it."""


@dataclass(frozen=True)
class _Column:
    name: str
    process: Callable[[Any], Any] | None  # the dialect's bind processor
    array_type: str  # PostgreSQL: the element type of its unnest array
    default: Callable[[], Any]


def _default(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    if default is None:
        return lambda: None
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    if default.is_callable:
        make = default.arg  # type: ignore[attr-defined]  # SQLAlchemy wraps it to take a context
        return lambda: make(None)

    def refuse() -> Any:
        raise UnsupportedDefaultError(f"no value for {column.table.name}.{column.name}")

    return refuse


def _column(column: Column[Any], dialect: Dialect) -> _Column:
    impl = column.type.dialect_impl(dialect)
    # text, not VARCHAR(n): an explicit cast to VARCHAR(n) would truncate silently, while the
    # assignment to the column refuses an over-long value, as a plain INSERT does
    array_type = "TEXT" if isinstance(impl, String) else impl.compile(dialect=dialect)
    return _Column(column.name, impl.bind_processor(dialect), array_type, _default(column))


def _columns(table: Table, dialect: Dialect) -> list[_Column]:
    return [_column(c, dialect) for c in table.columns]


def _slice_arrays(rows: Sequence[BulkRow], columns: Sequence[_Column]) -> list[list[Any]]:
    take = itemgetter(*(c.name for c in columns))
    tuples: list[tuple[Any, ...]] = []
    for row in rows:
        try:
            tuples.append(take(row))
        except KeyError:
            tuples.append(tuple(row[c.name] if c.name in row else c.default() for c in columns))
    arrays = [list(values) for values in zip(*tuples, strict=True)]
    for index, column in enumerate(columns):
        if column.process is not None:
            arrays[index] = [column.process(value) for value in arrays[index]]
    return arrays


async def _arrays(rows: Sequence[BulkRow], columns: Sequence[_Column]) -> list[list[Any]]:
    """One list of bind-ready values a column, in the rows' order. Built in slices, with the
    event loop's turn between them: a slice costs well under a millisecond, while a whole
    batch of rows through the bind processors would hold the loop for several."""
    arrays: list[list[Any]] = [[] for _ in columns]
    for start in range(0, len(rows), SLICE_ROWS):
        if start:
            await asyncio.sleep(0)
        for array, part in zip(
            arrays, _slice_arrays(rows[start : start + SLICE_ROWS], columns), strict=True
        ):
            array += part
    return arrays


def _head(table: Table, key: str, dialect: Dialect) -> tuple[str, str]:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in table.columns)
    into = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names})"
    return into, f" ON CONFLICT ({quote(key)}) DO NOTHING RETURNING {quote(key)}"


async def insert_new(
    connection: AsyncConnection, table: Table, key: str, rows: Sequence[BulkRow]
) -> set[Any]:
    """Insert `rows` into `table` in the connection's transaction; returns the `key` values of
    the rows that were not stored yet. `key` is the table's primary key or a unique column."""
    if not rows:
        return set()
    if len(table.columns) < 2:
        raise ValueError(f"bulk insert needs at least two columns, {table.name} has one")
    dialect = connection.dialect
    columns = _columns(table, dialect)
    arrays = await _arrays(rows, columns)
    into, tail = _head(table, key, dialect)
    if dialect.name == "postgresql":
        casts = ", ".join(f"${i}::{c.array_type}[]" for i, c in enumerate(columns, 1))
        sql = f"{into} SELECT * FROM unnest({casts}){tail}"
        return set((await connection.exec_driver_sql(sql, tuple(arrays))).scalars())
    if dialect.name != "sqlite":
        raise NotImplementedError(f"bulk insert on {dialect.name}")
    flat = [value for row in zip(*arrays, strict=True) for value in row]
    width = len(columns)
    per_statement = max(1, dialect.insertmanyvalues_max_parameters // width)
    placeholder = "(" + ", ".join("?" * width) + ")"
    new: set[Any] = set()
    for start in range(0, len(rows), per_statement):
        count = min(per_statement, len(rows) - start)
        sql = f"{into} VALUES {', '.join([placeholder] * count)}{tail}"
        params = tuple(flat[start * width : (start + count) * width])
        new.update((await connection.exec_driver_sql(sql, params)).scalars())
    return new
