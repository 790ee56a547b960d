"""The spend stream: with Redis, each request's spend row is put on a Redis stream before the
response leaves, and every replica's writer drains the stream into the database.

- `append` is one `XADD` (one round trip) awaited in the request's post-call, so a row that
  got its 200 is in Redis even if this replica dies the next instant. For a request with
  shared limits, the limits hook puts the `XADD` in the same transaction as the settlement
  (`entry`, `hand_over`), so the shared spend total and the rows can never disagree.
- The writers form one consumer group; each entry is delivered to one of them, written, then
  acknowledged and deleted (`XACK` + `XDEL`). A writer that dies leaves its entries pending:
  any live writer claims entries idle for `claim_idle_seconds` (`XAUTOCLAIM`) and writes them.
- Inserts are idempotent on the row id, so a row written twice (claimed from a writer that was
  slow, not dead) is stored once.
- When Redis is unreachable (the circuit is open), `append` says so and the caller queues the
  row locally, behind the local journal.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from gateway.background import finish_or_cancel, sleep_or_stop
from gateway.shared_redis import CONNECTION_ERRORS, RedisCircuit
from gateway.spend.rows import Row, from_json_ready, to_json_ready
from gateway.spend.writer import BATCH_SIZE, MAX_BACKOFF_SECONDS, SpendWriter

log = structlog.get_logger("toolrelay.spend")

GROUP = "spend-writers"
FIELD = b"row"
DEFAULT_CLAIM_IDLE_SECONDS = 15.0
DEFAULT_POLL_SECONDS = 0.5

Entry = tuple[bytes, Row | None]
StreamFields = dict[FieldT, EncodableT]


@dataclass
class SpendStream:
    client: Redis
    circuit: RedisCircuit
    key: str
    consumer: str
    writer: SpendWriter
    poll_seconds: float = DEFAULT_POLL_SECONDS
    claim_idle_seconds: float = DEFAULT_CLAIM_IDLE_SECONDS
    appended: int = 0
    written: int = 0
    _task: asyncio.Task[None] | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _group_ready: bool = False
    _claim_cursor: bytes = b"0-0"
    _failures: int = field(default=0)
    _handed_over: dict[int, Row | None] = field(default_factory=dict)

    def entry(self, row: Row) -> StreamFields:
        return {FIELD: orjson.dumps(to_json_ready(row))}

    def hand_over(self, record_id: int, row: Row, appended: bool) -> None:
        """The limits hook built this request's row and tried to append it with the
        settlement. If that failed, the spend hook keeps the same row (the same id: should the
        append have landed after all, the second copy is skipped at insert)."""
        if appended:
            self.appended += 1
        self._handed_over[record_id] = None if appended else row

    def take_handed_over(self, record_id: int) -> tuple[bool, Row | None]:
        """(found, row still to store)."""
        if record_id not in self._handed_over:
            return False, None
        return True, self._handed_over.pop(record_id)

    async def append(self, row: Row) -> bool:
        """True once the row is on the stream; False means: keep it locally."""
        if not self.circuit.available:
            return False
        try:
            await self.client.xadd(self.key, self.entry(row))
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="spend stream append")
            return False
        self.appended += 1
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="spend-stream")

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):  # redis reports an existing group only this way
                raise
        self._group_ready = True

    async def _run(self) -> None:
        while not self._stopping.is_set():
            delay = self.poll_seconds
            if self.circuit.available:
                try:
                    moved = await self.drain_once()
                except CONNECTION_ERRORS as exc:
                    self.circuit.trip(exc, during="spend stream read")
                    moved = 0
                except Exception:
                    # The loop must outlive any surprise, or rows would wait in Redis forever.
                    log.exception("spend stream drain failed unexpectedly; retrying")
                    moved = 0
                if moved:
                    continue  # more may be waiting: drain at once
                if self._failures:
                    delay = min(
                        MAX_BACKOFF_SECONDS, self.poll_seconds * 2 ** min(self._failures, 6)
                    )
            await sleep_or_stop(self._stopping, delay)

    async def drain_once(self) -> int:
        """Write one batch: our own unacknowledged entries first (a failed write), then
        entries of dead writers, then new ones. Returns how many entries were written."""
        await self._ensure_group()
        for source in (self._own_pending, self._claim_dead, self._read_new):
            entries = await source()
            if entries:
                return await self._write(entries)
        return 0

    async def _own_pending(self) -> list[Entry]:
        reply = await self.client.xreadgroup(
            GROUP, self.consumer, {self.key: "0"}, count=BATCH_SIZE
        )
        return _entries(reply)

    async def _read_new(self) -> list[Entry]:
        reply = await self.client.xreadgroup(
            GROUP, self.consumer, {self.key: ">"}, count=BATCH_SIZE
        )
        return _entries(reply)

    async def _claim_dead(self) -> list[Entry]:
        reply = await self.client.xautoclaim(
            self.key,
            GROUP,
            self.consumer,
            min_idle_time=int(self.claim_idle_seconds * 1000),
            start_id=self._claim_cursor,
            count=BATCH_SIZE,
        )
        cursor, claimed = reply[0], reply[1]
        self._claim_cursor = cursor if isinstance(cursor, bytes) else str(cursor).encode()
        entries = [(entry_id, _decode(fields)) for entry_id, fields in claimed]
        if entries:
            log.warning(
                "claimed spend rows left by a writer that stopped (a replica died)",
                rows=len(entries),
            )
        return entries

    async def _write(self, entries: list[Entry]) -> int:
        rows = [row for _, row in entries if row is not None]
        if rows and not await self.writer.write_rows(rows):
            self._failures += 1
            return 0  # stays pending for us; retried with backoff
        self._failures = 0
        ids = [entry_id for entry_id, _ in entries]
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.key, GROUP, *ids)
        pipe.xdel(self.key, *ids)
        await pipe.execute()
        self.written += len(rows)
        return len(entries)

    async def stop(self, flush_seconds: float = 5.0) -> None:
        """Write what is already on the stream (bounded); the rest stays in Redis for the
        other replicas, or for this one's next start. A batch under way is let finish within
        that time (`gateway.background`)."""
        deadline = asyncio.get_running_loop().time() + flush_seconds
        if self._task is not None:
            self._stopping.set()
            await finish_or_cancel(self._task, flush_seconds)
            self._task = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self.drain_pending()

    async def drain_pending(self) -> None:
        """Write every entry already on the stream that this writer can take (not the ones
        other writers hold); stops quietly when Redis or the database is away."""
        if not self.circuit.available:
            return
        try:
            await self._ensure_group()
            while True:
                entries = await self._own_pending() or await self._read_new()
                if not entries or not await self._write(entries):
                    return
        except CONNECTION_ERRORS as exc:
            self.circuit.trip(exc, during="spend stream drain")


def _entries(reply: Any) -> list[Entry]:
    if not reply:
        return []
    _stream, messages = reply[0]
    return [(entry_id, _decode(fields)) for entry_id, fields in messages if fields is not None]


def _decode(fields: Any) -> Row | None:
    """A malformed entry (not written by us) is acknowledged and dropped, with a log line."""
    raw = fields.get(FIELD) if isinstance(fields, dict) else None
    try:
        if not isinstance(raw, bytes):
            raise TypeError("no row field")
        row: Row = from_json_ready(orjson.loads(raw))
    except (orjson.JSONDecodeError, TypeError, ValueError):
        log.error("malformed spend stream entry dropped", entry=repr(fields)[:200])
        return None
    return row
