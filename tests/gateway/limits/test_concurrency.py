"""Limits under concurrency, through the gateway: a budget is never overshot by more than what
was in flight when it ran out, and an rpm limit of N admits exactly N in its window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import pytest

from tests.gateway.store.databases import (
    CHAT,
    admin,
    bearer,
    database_url,
    gateway_config,
    postgres_database,
    running_gateway,
    state_of,
    usage_upstream,
)

__all__ = ["database_url", "postgres_database"]


class Tally:
    """Counts events and wakes whoever waits for a total."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Condition()

    async def add(self) -> None:
        async with self.changed:
            self.count += 1
            self.changed.notify_all()

    async def reach(self, total: int) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: self.count >= total)


class GatedUpstream(httpx.AsyncBaseTransport):
    """Every call costs 1.0 (10 + 10 tokens); calls wait until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.arrived = Tally()
        self.inner = usage_upstream()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.arrived.add()
        await self.gate.wait()
        return await self.inner.handle_async_request(request)


@pytest.mark.anyio
async def test_fifty_concurrent_requests_never_exceed_a_budget_of_ten(
    database_url: str, tmp_path: Path
) -> None:
    upstream = GatedUpstream()
    async with running_gateway(gateway_config(database_url), tmp_path, upstream) as (app, client):
        key = (await client.post("/key/generate", headers=admin(), json={"max_budget": 10})).json()[
            "key"
        ]
        # max_tokens bounds each call's cost (10 prompt-ish + 10 out at 0.05), so the
        # reservation made before the call covers what it can cost.
        body = {**CHAT, "messages": [{"role": "user", "content": "x" * 40}], "max_tokens": 10}
        statuses: list[int] = []
        refused = Tally()

        async def call() -> None:
            response = await client.post("/v1/chat/completions", headers=bearer(key), json=body)
            statuses.append(response.status_code)
            if response.status_code != 200:
                await refused.add()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(50):
                    group.start_soon(call)
                # Everything is decided while the admitted calls are still in flight.
                await upstream.arrived.reach(10)
                await refused.reach(40)
                upstream.gate.set()
        assert statuses.count(200) == 10 and statuses.count(422) == 40
        accounts = state_of(app).accounts
        assert accounts is not None
        assert accounts.ledger.spend(("key", accounts.cache.all("key")[0].id)) == 10.0
        assert await accounts.writer.flush()
        logs = (await client.get("/spend/logs", headers=admin())).json()
        assert sum(r["spend"] for r in logs if r["status"] == "success") == 10.0


@pytest.mark.anyio
async def test_budget_overshoot_is_bounded_by_requests_in_flight(
    database_url: str, tmp_path: Path
) -> None:
    """Without max_tokens the cost is unknown in advance: five clients in a loop may each
    have one request in flight when the budget runs out, and no more than that."""
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = (await client.post("/key/generate", headers=admin(), json={"max_budget": 10})).json()[
            "key"
        ]
        admitted: list[int] = []

        async def client_loop() -> None:
            for _ in range(10):
                response = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
                if response.status_code == 200:
                    admitted.append(1)
                else:
                    assert response.status_code == 422
                    assert response.json()["error"]["code"] == "budget_exceeded"

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(client_loop)
        assert 10 <= len(admitted) <= 10 + 5 - 1
        info = await client.get("/key/info", headers=bearer(key))
        assert info.status_code == 200 and info.json()["info"]["spend"] == len(admitted)


@pytest.mark.anyio
async def test_rpm_limit_admits_exactly_n_in_its_window(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = (await client.post("/key/generate", headers=admin(), json={"rpm_limit": 5})).json()[
            "key"
        ]
        started = datetime.now(UTC).replace(second=0, microsecond=0)
        with anyio.fail_after(30):
            responses = await asyncio.gather(
                *(
                    client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
                    for _ in range(20)
                )
            )
        ended = datetime.now(UTC).replace(second=0, microsecond=0)
        ok = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 429]
        # A minute boundary inside the burst opens a second window (never observed in practice).
        assert len(ok) == (5 if started == ended else len(ok)) and len(ok) <= 10
        assert len(ok) + len(refused) == 20
        error = refused[0].json()["error"]
        assert error["code"] == "rate_limit_exceeded" and "rpm limit 5" in error["message"]
        assert "Resets at" in error["message"] and int(refused[0].headers["retry-after"]) <= 60
        assert ok[-1].headers["x-ratelimit-remaining-requests"] in {"0", "1", "2", "3", "4"}


@pytest.mark.anyio
async def test_parallel_limit_counts_requests_in_flight(database_url: str, tmp_path: Path) -> None:
    upstream = GatedUpstream()
    async with running_gateway(gateway_config(database_url), tmp_path, upstream) as (_app, client):
        key = (
            await client.post("/key/generate", headers=admin(), json={"max_parallel_requests": 2})
        ).json()["key"]
        statuses: list[int] = []
        answered = Tally()

        async def call() -> None:
            response = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
            statuses.append(response.status_code)
            await answered.add()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(call)
                await upstream.arrived.reach(2)
                await answered.reach(4)
                upstream.gate.set()
        assert sorted(statuses) == [200, 200, 429, 429, 429, 429]
        again = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        assert again.status_code == 200
