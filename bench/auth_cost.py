"""Auth + limits cost per request, with 10,000 virtual keys in the store.

    uv run python bench/auth_cost.py [--keys 10000] [--requests 200000] [--database-url URL]

Builds a store (SQLite in a temp dir by default) with N keys spread over 100 teams and 1,000
users, every key with models, a budget, rpm/tpm and parallel limits; loads the cache the way
the gateway does at start; then times, per request: `authenticate` (hash + cache lookup),
the limits hook's `pre_call` (model access, budgets of key/team/user/end user, rpm/tpm,
parallel; reservation; response headers) and its `post_call` (settle). Also counts SQL
statements run during the timed loop, which must be 0: no request waits on the database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from gateway.accounts import build_accounts
from gateway.config import config_from_mapping
from gateway.context import RequestContext, bind_context, unbind_context
from gateway.deployments import deployment_from_entry
from gateway.hooks import CallRecord
from gateway.keys.hashing import display_name, hash_key, new_key
from gateway.store import migrate_database, tables

MODEL = "gpt-4o-mini"


def _limits(stamp: datetime) -> dict[str, Any]:
    return {
        "models": [MODEL, "gpt-4o"],
        "max_budget": 1e9,
        "spend": 0.0,
        "budget_duration": "30d",
        "rpm_limit": 10**9,
        "tpm_limit": 10**12,
        "max_parallel_requests": 10**6,
        "metadata": {"mcp_servers": ["fetch"]},
        "blocked": False,
        "created_at": stamp,
        "updated_at": stamp,
    }


async def populate(accounts: Any, n_keys: int) -> list[str]:
    stamp = datetime.now(UTC)
    plain = [new_key() for _ in range(n_keys)]
    async with accounts.db.engine.begin() as connection:
        await connection.execute(
            insert(tables.teams),
            [{"team_id": f"team-{i}", "members": [], **_limits(stamp)} for i in range(100)],
        )
        await connection.execute(
            insert(tables.users),
            [{"user_id": f"user-{i}", "teams": [], **_limits(stamp)} for i in range(1000)],
        )
        await connection.execute(
            insert(tables.virtual_keys),
            [
                {
                    "token": hash_key(key),
                    "key_name": display_name(key),
                    "key_alias": f"k{i}",
                    "team_id": f"team-{i % 100}",
                    "user_id": f"user-{i % 1000}",
                    "tags": [],
                    **_limits(stamp),
                }
                for i, key in enumerate(plain)
            ],
        )
    return plain


async def run(n_keys: int, n_requests: int, database_url: str | None, data_dir: Path) -> None:
    entry = {"model_name": MODEL, "litellm_params": {"model": f"openai/{MODEL}"}}
    config = config_from_mapping(
        {
            "model_list": [entry],
            "general_settings": {"master_key": "sk-master", "database_url": database_url},
        },
        environ={},
    )
    deployment = deployment_from_entry(config.file.model_list[0], 0)
    accounts = build_accounts(config, data_dir, lambda _name: [deployment])
    await migrate_database(accounts.db)
    keys = await populate(accounts, n_keys)
    started = time.perf_counter()
    await accounts.cache.load_all()
    load_ms = (time.perf_counter() - started) * 1000
    accounts.cache.active = True

    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(accounts.db.engine.sync_engine, "before_cursor_execute", count)
    rng = random.Random(7)
    headers = [{"authorization": f"Bearer {rng.choice(keys)}"} for _ in range(n_requests)]
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hello there"}],
        "user": "end-1",
    }
    samples: list[float] = []
    auth_only: list[float] = []
    hook = accounts.limits_hook
    for batch in range(0, n_requests, 1000):
        t0 = time.perf_counter()
        for h in headers[batch : batch + 1000]:
            ctx = RequestContext(request_id="r")
            token = bind_context(ctx)
            principal = await accounts.authenticator.authenticate(h)
            record = CallRecord("r", principal, "chat", MODEL, body)
            await hook.pre_call(record)
            record.deployment, record.prompt_tokens, record.completion_tokens = deployment, 12, 30
            await hook.post_call(record)
            unbind_context(token)
        samples.append((time.perf_counter() - t0) / 1000 * 1e6)
        t0 = time.perf_counter()
        for h in headers[batch : batch + 1000]:
            await accounts.authenticator.authenticate(h)
        auth_only.append((time.perf_counter() - t0) / 1000 * 1e6)
    event.remove(accounts.db.engine.sync_engine, "before_cursor_execute", count)
    await accounts.db.close()
    print(f"store: {accounts.db.describe()}")
    print(
        f"keys in store: {n_keys} (+100 teams, 1000 users); cache load at start: {load_ms:.0f} ms"
    )
    print(f"requests timed: {n_requests}")
    print(
        "auth + limits (pre_call + post_call), us/request: "
        f"median {statistics.median(samples):.2f}, p90 {statistics.quantiles(samples, n=10)[-1]:.2f}, "
        f"min {min(samples):.2f}"
    )
    print(f"auth alone, us/request: median {statistics.median(auth_only):.2f}")
    print(f"SQL statements during the timed loop: {statements}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.keys, args.requests, args.database_url, Path(tmp)))


if __name__ == "__main__":
    main()
