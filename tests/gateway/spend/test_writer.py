"""A row the database refuses is set aside (and logged) instead of blocking the rows behind it;
odd input (very long end-user ids, absurd token counts) is stored, clipped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from subprocess import PIPE

import pytest
from sqlalchemy import event, func, select

from gateway.auth import Principal
from gateway.hooks import CallRecord
from gateway.spend.rows import row_from_record
from gateway.spend.writer import REJECTED_FILENAME, SpendWriter
from gateway.store import database_url_for, open_database, tables
from gateway.store.database import Database, create_database
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


def test_a_start_folds_back_replay_files_of_gone_processes_only(tmp_path: Path) -> None:
    """`--workers N` share one data dir: a worker starting must not take the replay file
    another running worker is writing to the database now."""
    running = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=PIPE)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    spill = tmp_path / "spend-spill.jsonl"
    busy = tmp_path / f"spend-spill.{running.pid}.replay"
    busy.write_bytes(b'{"worker": "running"}\n')
    (tmp_path / f"spend-spill.{gone.pid}.replay").write_bytes(b'{"worker": "gone"}\n')
    (tmp_path / "spend-spill.replay").write_bytes(b'{"worker": "before per-process names"}\n')
    db = create_database(database_url_for(None, tmp_path))
    try:
        SpendWriter(db=db, spill_path=spill).recover_replay_file()
    finally:
        db.engine.sync_engine.dispose()  # never connected: nothing to await
        running.communicate(b"")
    assert busy.read_bytes() == b'{"worker": "running"}\n'
    assert sorted(p.name for p in tmp_path.glob("*.replay")) == [busy.name]
    assert sorted(spill.read_bytes().splitlines()) == [
        b'{"worker": "before per-process names"}',
        b'{"worker": "gone"}',
    ]


@pytest.mark.anyio
async def test_stop_lets_a_periodic_flush_under_way_finish(tmp_path: Path) -> None:
    """A shutdown that lands while the periodic flush is half way through its batches still
    stores every row, none spilled."""
    db = await open_database(database_url_for(None, tmp_path))
    try:
        writer = SpendWriter(db=db, spill_path=tmp_path / "spill.jsonl", interval=0.01)
        rows = [a_row() for _ in range(3000)]
        for row in rows:
            writer.enqueue(row)
        await writer.start()
        # until the periodic flush is half way: some batches written, others still queued
        while writer.written == 0:  # noqa: ASYNC110 - the writer has no event to wait on
            await asyncio.sleep(0)
        assert writer.queue
        await writer.stop()
        assert await _stored(db) == len(rows) and writer.spilled == 0
        assert not (tmp_path / "spill.jsonl").exists()
    finally:
        await db.close()


@pytest.mark.anyio
async def test_stop_inside_a_write_transaction_lets_it_commit(tmp_path: Path) -> None:
    """A shutdown that lands inside the periodic flush's transaction, after SQLite took the
    write lock, waits for the commit. Cancelling there left the lock held by a connection
    nobody closed, so the final flush waited out the busy timeout, found the database locked
    and spilled every row (what Granian's drain met in full CI runs)."""
    db = await open_database(database_url_for(None, tmp_path))
    try:
        writing = asyncio.Event()

        def on_statement(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            # runs on the event loop (SQLAlchemy's greenlet) just before the driver call
            if statement.startswith("INSERT INTO spend_logs"):
                writing.set()

        event.listen(db.engine.sync_engine, "before_cursor_execute", on_statement)
        writer = SpendWriter(db=db, spill_path=tmp_path / "spill.jsonl", interval=0.01)
        writer.enqueue(a_row())
        writer.enqueue(a_row())
        await writer.start()
        await writing.wait()  # the insert is on SQLite's thread: the stop lands there
        await writer.stop(flush_seconds=3.0)  # under SQLite's 5 s busy timeout
        assert (writer.written, writer.spilled) == (2, 0)
        assert await _stored(db) == 2
    finally:
        await db.close()


@pytest.mark.anyio
async def test_stop_right_after_a_wake_ends_the_writer(tmp_path: Path) -> None:
    """`wake()` and `stop()` in the same turn of the loop: the stop is not lost (asyncio's
    `wait_for` on Python 3.11 returns the finished wait and swallows the cancellation, which
    left the writer flushing forever and `stop()` waiting on it)."""
    db = await open_database(database_url_for(None, tmp_path))
    try:
        writer = SpendWriter(db=db, spill_path=tmp_path / "spill.jsonl", interval=0.05)
        await writer.start()
        for _ in range(3):
            await asyncio.sleep(0)  # the writer's loop is waiting for its next turn
        writer.enqueue(a_row())
        writer.wake()
        stopping = asyncio.create_task(writer.stop())
        # a bound on a hang, not a timing (a timeout around `stop()` itself was swallowed)
        done, _ = await asyncio.wait({stopping}, timeout=30)
        assert done, "stop() hangs"
        assert (writer.written, writer.spilled) == (1, 0)
    finally:
        await db.close()


async def _stored(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int(
            (
                await connection.execute(select(func.count()).select_from(tables.spend_logs))
            ).scalar_one()
        )
