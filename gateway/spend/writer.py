"""Spend rows are queued in memory and written in batches every `proxy_batch_write_at` seconds,
off the request path.

When the database is down, batches are retried with backoff. The in-memory queue is bounded;
past the bound, rows go to an on-disk spill file (JSON lines) that is written back once the
database answers, also after a restart. On shutdown the queue is flushed, or spilled to disk
when the database cannot take it. A row is only ever dropped if the spill file cannot be
written either, and that is logged as an error with the count.

With a `SpendJournal`, every queued row is also appended to it before the request returns, so
a replica killed with rows still in memory replays them at its next start (`journal.py`). With
Redis, rows go through the spend stream instead (`stream.py`), which calls `write_rows`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import structlog

from gateway.background import finish_or_cancel, sleep_or_stop
from gateway.spend.batch import write_batch
from gateway.spend.journal import SpendJournal, pid_alive
from gateway.spend.rows import Row, from_json_ready, to_json_ready
from gateway.store.database import REFUSED_ERRORS, UNAVAILABLE_ERRORS, Database, refused_row

log = structlog.get_logger("toolrelay.spend")

REJECTED_FILENAME = "spend-rejected.jsonl"
_WRITE_ERRORS: tuple[type[BaseException], ...] = (*REFUSED_ERRORS, *UNAVAILABLE_ERRORS)


DEFAULT_INTERVAL_SECONDS = 2.0
DEFAULT_MAX_QUEUE = 100_000
BATCH_SIZE = 500
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class SpendWriter:
    db: Database
    spill_path: Path
    interval: float = DEFAULT_INTERVAL_SECONDS
    max_queue: int = DEFAULT_MAX_QUEUE
    journal: SpendJournal | None = None
    queue: deque[Row] = field(default_factory=deque)
    written: int = 0
    dropped: int = 0
    spilled: int = 0
    rejected: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _failures: int = 0

    def enqueue(self, row: Row) -> None:
        if self.journal is not None:
            try:
                self.journal.append(row)
            except OSError as exc:
                log.error(
                    "cannot append to the spend journal; this row is lost if the process dies "
                    "before its batch is written",
                    path=str(self.journal.path),
                    error=repr(exc),
                )
        if len(self.queue) < self.max_queue:
            self.queue.append(row)
            return
        if self.spilled == 0:
            log.warning(
                "spend queue full (database slow or down); spilling rows to disk",
                path=str(self.spill_path),
                queued=len(self.queue),
            )
        self._spill([row])

    @property
    def pending(self) -> int:
        return len(self.queue) + (self._spill_lines() if self.spill_path.exists() else 0)

    def _spill_lines(self) -> int:
        with self.spill_path.open("rb") as handle:
            return sum(1 for _ in handle)

    def _spill(self, rows: list[Row]) -> None:
        if not rows:
            return
        try:
            self.spill_path.parent.mkdir(parents=True, exist_ok=True)
            with self.spill_path.open("ab") as handle:
                handle.write(b"".join(orjson.dumps(to_json_ready(r)) + b"\n" for r in rows))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            self.dropped += len(rows)
            log.error(
                "SPEND ROWS LOST: cannot write the spill file",
                path=str(self.spill_path),
                rows=len(rows),
                dropped_total=self.dropped,
                error=repr(exc),
            )
            return
        self.spilled += len(rows)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="spend-writer")

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            delay = self.interval
            if self._failures:
                delay = min(MAX_BACKOFF_SECONDS, self.interval * 2 ** min(self._failures, 6))
            await sleep_or_stop(self._wake, delay)  # wake() and stop() end the sleep early
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.flush()
            except Exception:
                # The loop must outlive any surprise, or every later row would wait forever.
                log.exception("spend writer flush failed unexpectedly; retrying")
                self._failures += 1

    async def flush(self) -> bool:
        """Write everything queued (and spilled); False when the database refused."""
        async with self._lock:
            if self.journal is not None:
                self.journal.seal()  # rows queued from now on go to a fresh journal file
            ok = await self._flush_queue()
            if ok and self.journal is not None:
                # every row of the sealed files was queued before the seal: all stored now
                self.journal.discard_sealed()
            ok = ok and await self._flush_spill()
        self._failures = 0 if ok else self._failures + 1
        return ok

    async def _flush_queue(self) -> bool:
        while self.queue:
            batch = [self.queue[i] for i in range(min(BATCH_SIZE, len(self.queue)))]
            if not await self._write(batch):
                return False
            for _ in batch:
                self.queue.popleft()
        return True

    def _replay_path(self, pid: int) -> Path:
        return self.spill_path.with_suffix(f".{pid}.replay")

    async def _flush_spill(self) -> bool:
        # Named by process: `--workers N` share the data dir and its spill file, and each
        # replays only the file it took.
        replay = self._replay_path(os.getpid())
        while True:
            if not replay.exists():
                try:
                    # Move the file aside, so rows spilled while we write go to a fresh file;
                    # the rename is atomic, so of several workers only one takes it.
                    self.spill_path.replace(replay)
                except FileNotFoundError:
                    self.spilled = 0
                    return True
            lines = replay.read_bytes().splitlines()
            rows = [from_json_ready(orjson.loads(line)) for line in lines if line.strip()]
            for start in range(0, len(rows), BATCH_SIZE):
                if not await self._write(rows[start : start + BATCH_SIZE]):
                    return False  # the replay file stays; rows already written are skipped
            replay.unlink()
            log.info("spilled spend rows written to the database", rows=len(rows))

    async def write_rows(self, rows: list[Row]) -> bool:
        """Write rows that are kept durable elsewhere (the spend stream) until this returns
        True; refused rows are set aside as for queued ones."""
        async with self._lock:
            for start in range(0, len(rows), BATCH_SIZE):
                if not await self._write(rows[start : start + BATCH_SIZE]):
                    self._failures += 1
                    return False
        self._failures = 0
        return True

    async def _write(self, batch: list[Row]) -> bool:
        try:
            self.written += await write_batch(self.db, batch)
        except _WRITE_ERRORS as exc:
            if refused_row(exc):
                return await self._write_one_by_one(batch)
            self.db.mark(False, exc)
            return False
        self.db.mark(True)
        return True

    async def _write_one_by_one(self, batch: list[Row]) -> bool:
        for row in batch:
            try:
                self.written += await write_batch(self.db, [row])
            except _WRITE_ERRORS as exc:
                if not refused_row(exc):
                    self.db.mark(False, exc)
                    return False
                self._reject(row, exc)
        self.db.mark(True)
        return True

    def _reject(self, row: Row, error: BaseException) -> None:
        path = self.spill_path.with_name(REJECTED_FILENAME)
        self.rejected += 1
        log.error(
            "the database refused a spend row; set aside",
            request_id=row.get("request_id"),
            path=str(path),
            error=repr(error)[:300],
        )
        try:
            with path.open("ab") as handle:
                handle.write(orjson.dumps(to_json_ready(row)) + b"\n")
        except OSError as exc:
            self.dropped += 1
            log.error("SPEND ROW LOST: cannot write the rejected-rows file", error=repr(exc))

    async def stop(self, flush_seconds: float = 10.0) -> None:
        """Flush on shutdown; whatever the database cannot take in `flush_seconds` is spilled.

        A periodic flush under way is let finish within that time, not cancelled: cancelled
        inside SQLite's insert, it left the write lock held, and the final flush found the
        database locked and spilled every row (`gateway.background`)."""
        deadline = asyncio.get_running_loop().time() + flush_seconds
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            await finish_or_cancel(self._task, flush_seconds)
            self._task = None
        flushed = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                flushed = await self.flush()
        dropped = self.dropped
        if not flushed and self.queue:
            rows = list(self.queue)
            self.queue.clear()
            self._spill(rows)
            log.warning("database unavailable at shutdown; spend rows kept on disk", rows=len(rows))
        if self.journal is not None:
            if self.dropped == dropped:
                self.journal.discard_all()  # every row is in the database or the spill file
            else:
                self.journal.close()  # replayed at the next start
        log.info("spend writer stopped", written=self.written, flushed=flushed)

    def recover_replay_file(self) -> None:
        """A replay file left by a crash mid-replay is folded back into the spill file, and so
        is the journal of a run that was killed."""
        if self.journal is not None:
            self.journal.recover_into(self.spill_path)
        for replay in sorted(self.spill_path.parent.glob(f"{self.spill_path.stem}.*replay")):
            owner = replay.name.removeprefix(self.spill_path.stem).split(".")[1]
            if owner.isdigit() and int(owner) != os.getpid() and pid_alive(int(owner)):
                continue  # another worker of this gateway is replaying it now
            with self.spill_path.open("ab") as handle:
                handle.write(replay.read_bytes())
            replay.unlink()
