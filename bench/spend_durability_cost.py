"""What durable spend costs per request, in microseconds (wall and CPU of this process):

- Redis: the limits settlement alone (one EVALSHA) against the settlement with the spend row
  appended in the same MULTI/EXEC (EVALSHA + XADD): the difference is what the stream adds;
- no Redis: appending one row to the local journal (one write(), no fsync).

    uv run python bench/spend_durability_cost.py [--requests 5000] [--redis redis://127.0.0.1:6379/0]

Uses its own key namespace and stream, deleted at the end; the shared Redis is not flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

from gateway.limits.lease import ReplicaLease
from gateway.limits.ledger import Check, MemoryLedger
from gateway.limits.redis_counters import RedisCounters
from gateway.shared_redis import RedisCircuit, build_redis_client
from gateway.spend.journal import SpendJournal
from gateway.spend.rows import Row, to_json_ready


def sample_row() -> Row:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4().hex,
        "request_id": uuid.uuid4().hex,
        "call_type": "chat",
        "api_key": "a" * 64,
        "key_alias": None,
        "team_id": None,
        "user_id": None,
        "end_user": None,
        "model_group": "gpt-4o-mini",
        "model": "gpt-4o-mini",
        "deployment_id": "d1",
        "provider": "openai",
        "prompt_tokens": 12,
        "completion_tokens": 40,
        "total_tokens": 52,
        "cached_tokens": 0,
        "spend": 0.0000123,
        "start_time": now,
        "end_time": now,
        "status": "success",
        "http_status": 200,
        "cache_hit": False,
        "stream": False,
        "tags": [],
        "mcp_tool": None,
    }


async def settle_cost(url: str, requests: int, with_row: bool) -> tuple[float, float]:
    client = build_redis_client(url)
    circuit = RedisCircuit(client)
    lease = ReplicaLease(client, circuit)
    database = f"bench-{uuid.uuid4().hex}"
    counters = RedisCounters.create(MemoryLedger(), client, database, circuit, lease)
    stream = f"{counters.namespace}:spend"
    checks = [Check(kind="key", id="bench-key", max_budget=1e9, max_parallel_requests=1000)]
    try:
        await lease.renew()
        wall = cpu = 0.0
        for _ in range(requests):
            reservation = await counters.admit(checks, 0.001, 10, datetime.now(UTC))
            row = sample_row()
            entry = (stream, {b"row": orjson.dumps(to_json_ready(row))}) if with_row else None
            w0, c0 = time.perf_counter(), time.process_time()
            await counters.settle(reservation, 0.001, 10, append=entry)
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
        return wall / requests * 1e6, cpu / requests * 1e6
    finally:
        stale = [k async for k in client.scan_iter(match=f"{counters.namespace}:*")]
        if stale:
            await client.delete(*stale)
        await client.delete(lease.key)
        await client.aclose()


def journal_cost(requests: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as directory:
        journal = SpendJournal(Path(directory) / "spend-journal.jsonl")
        rows = [sample_row() for _ in range(requests)]
        w0, c0 = time.perf_counter(), time.process_time()
        for row in rows:
            journal.append(row)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        journal.close()
    return wall / requests * 1e6, cpu / requests * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(f"{'what':<48} {'wall µs':>9} {'cpu µs':>9}")
    for label, with_row in (("settle (EVALSHA)", False), ("settle + XADD (MULTI/EXEC)", True)):
        await settle_cost(args.redis, 200, with_row)  # warm up: scripts loaded, pool filled
        wall, cpu = await settle_cost(args.redis, args.requests, with_row)
        print(f"{label:<48} {wall:>9.1f} {cpu:>9.1f}")
    wall, cpu = journal_cost(args.requests)
    print(f"{'journal append (no Redis; write, no fsync)':<48} {wall:>9.1f} {cpu:>9.1f}")


if __name__ == "__main__":
    asyncio.run(main())
