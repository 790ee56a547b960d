"""The SQLite engine's memory bounds: few prepared statements kept, one connection kept.

Each distinct SQL text the gateway runs becomes a prepared statement that Python's sqlite3
keeps per connection, and each pooled aiosqlite connection is a thread with its own SQLite
page cache and malloc arena. A spend batch of N rows is one multi-row INSERT whose text
depends on N, so a busy gateway ran a new large statement at almost every flush.
"""

from __future__ import annotations

import asyncio
import ctypes
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.database import (
    SQLITE_CACHED_STATEMENTS,
    SQLITE_POOL_SIZE,
    create_engine_for,
    database_url_for,
)

# the library Python's sqlite3 module is linked to (one copy per process)
_sqlite = ctypes.CDLL("libsqlite3.so.0")
_sqlite.sqlite3_memory_used.restype = ctypes.c_int64

PARAMETERS = 1000  # per statement: a prepared statement of some 100 kB


def _memory_used() -> int:
    return int(_sqlite.sqlite3_memory_used())


def _distinct_statement(index: int) -> tuple[str, tuple[int, ...]]:
    """A SELECT with its own text (like a spend INSERT of a new row count) and many binds."""
    count = PARAMETERS + index
    return "SELECT sum(column1) FROM (VALUES " + ", ".join(["(?)"] * count) + ")", (1,) * count


def _worker_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url_for(None, tmp_path))
    try:
        yield engine
    finally:
        await engine.dispose()


def _kept_by_default() -> int:
    """What one of these statements costs while Python's default cache (128) keeps it."""
    connection = sqlite3.connect(":memory:")
    try:
        before = _memory_used()
        sql, binds = _distinct_statement(0)
        connection.execute(sql, binds).fetchall()
        return _memory_used() - before
    finally:
        connection.close()


@pytest.mark.anyio
async def test_a_connection_keeps_a_bounded_number_of_prepared_statements(
    engine: AsyncEngine,
) -> None:
    per_statement = _kept_by_default()
    assert per_statement > 50_000  # the statements are large enough to tell
    rounds = 4 * max(SQLITE_CACHED_STATEMENTS, 8)
    full = 0
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        for index in range(rounds):
            sql, binds = _distinct_statement(index)
            result = await connection.exec_driver_sql(sql, binds)
            assert result.scalar() == PARAMETERS + index
            if index == SQLITE_CACHED_STATEMENTS:
                full = _memory_used()  # the cache holds as many as it ever will
        after = _memory_used()
    # the default would have kept every later statement too: 3 x 8 of them and more
    assert after - full < per_statement * 2


@pytest.mark.anyio
async def test_the_pool_keeps_one_connection_and_closes_the_others(engine: AsyncEngine) -> None:
    assert SQLITE_POOL_SIZE == 1
    others = _worker_threads()  # another test's engine may still be closing its own
    async with engine.connect() as first, engine.connect() as second:
        await asyncio.gather(first.execute(text("SELECT 1")), second.execute(text("SELECT 2")))
        ours = _worker_threads() - others
        assert len(ours) == 2  # each aiosqlite connection is a thread
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    for _ in range(200):  # the second connection's thread ends once it is closed
        if sum(thread.is_alive() for thread in ours) == 1:
            break
        await asyncio.sleep(0.05)
    assert sum(thread.is_alive() for thread in ours) == 1


@pytest.mark.anyio
async def test_the_pragmas_still_hold(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
