"""A settlement cut mid-call reaches the shared spend exactly once: whether Redis ran it before
the reply was lost, or never received it. Real Redis, behind a TCP proxy the test controls (the
shared Redis itself is never touched)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from gateway.limits.lease import ReplicaLease
from gateway.limits.ledger import Check, MemoryLedger
from gateway.limits.redis_counters import RedisCounters
from gateway.shared_redis import RedisCircuit, build_redis_client
from tests.reliability.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.components import REDIS_URL, require_component, tcp_port_open

COST = 0.25


@dataclass
class Setup:
    counters: RedisCounters
    proxy: TcpProxy
    direct: Redis  # straight to Redis, to read what it really holds
    check: Check

    async def shared_spend(self) -> float:
        value = await self.direct.hget(self.counters._budget_key(self.check.ref), "spend")
        return float(value) if value is not None else 0.0

    async def wait_until_shared_again(self) -> None:
        for _ in range(750):  # 15 s: the probe runs every 50 ms
            if self.counters.circuit.available:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the circuit did not close after Redis came back")


@pytest.fixture
def redis_port() -> Iterator[int]:
    url = make_url(REDIS_URL)
    require_component(tcp_port_open(url.host or "127.0.0.1", url.port or 6379), "Redis")
    yield url.port or 6379


@pytest.fixture
async def setup(redis_port: int) -> AsyncIterator[Setup]:
    with tcp_proxy("127.0.0.1", redis_port) as proxy:
        client = build_redis_client(f"redis://127.0.0.1:{proxy.port}/0", timeout=2.0)
        direct = build_redis_client(f"redis://127.0.0.1:{redis_port}/0", timeout=2.0)
        circuit = RedisCircuit(client, probe_seconds=0.05)
        lease = ReplicaLease(client, circuit)
        namespace = f"toolrelay:test-exactly-once:{uuid.uuid4().hex}"
        counters = RedisCounters(MemoryLedger(), client, namespace, circuit, lease)
        try:
            yield Setup(counters, proxy, direct, Check("key", uuid.uuid4().hex, max_budget=100))
        finally:
            await circuit.aclose()
            async for key in direct.scan_iter(match=f"{namespace}:*"):
                await direct.delete(key)
            await client.aclose()
            await direct.aclose()


async def _admit(setup: Setup) -> object:
    reservation = await setup.counters.admit(
        [setup.check], cost=1.0, tokens=10, now=datetime.now(UTC)
    )
    assert reservation.shared
    return reservation


@pytest.mark.anyio
async def test_a_settlement_redis_ran_before_the_reply_was_lost_counts_once(
    setup: Setup,
) -> None:
    # One settlement first, so Redis has the script: a lost reply to EVALSHA must be the
    # reply to a run, not to "no such script".
    await setup.counters.settle(await _admit(setup), COST, 5)  # type: ignore[arg-type]
    reservation = await _admit(setup)
    setup.proxy.lose_replies()
    settled = await setup.counters.settle(reservation, COST, 5)  # type: ignore[arg-type]
    assert settled is False
    assert not setup.counters.circuit.available
    assert await setup.shared_spend() == 2 * COST  # Redis ran it; the replica cannot know

    setup.proxy.restore()
    await setup.wait_until_shared_again()
    assert await setup.shared_spend() == 2 * COST
    assert setup.counters._unconfirmed == {}


@pytest.mark.anyio
async def test_a_settlement_that_never_reached_redis_counts_once(setup: Setup) -> None:
    reservation = await _admit(setup)
    setup.proxy.cut()  # the pooled connection is reset: the call fails as it is sent
    await setup.counters.settle(reservation, COST, 5)  # type: ignore[arg-type]
    assert not setup.counters.circuit.available
    assert await setup.shared_spend() == 0.0

    setup.proxy.restore()
    await setup.wait_until_shared_again()
    assert await setup.shared_spend() == COST


@pytest.mark.anyio
async def test_spend_counted_while_redis_was_away_is_added_once(setup: Setup) -> None:
    first, second = await _admit(setup), await _admit(setup)
    setup.proxy.cut()
    await setup.counters.settle(first, COST, 5)  # type: ignore[arg-type]
    await setup.counters.settle(second, COST, 5)  # type: ignore[arg-type]  # circuit open: local
    assert setup.counters.local.spend(setup.check.ref) == 2 * COST

    setup.proxy.restore()
    await setup.wait_until_shared_again()
    assert await setup.shared_spend() == 2 * COST

    third = await _admit(setup)
    await setup.counters.settle(third, COST, 5)  # type: ignore[arg-type]
    assert await setup.shared_spend() == 3 * COST
    assert setup.counters.local.spend(setup.check.ref) == 3 * COST


@pytest.mark.anyio
async def test_replaying_an_applied_number_adds_nothing(setup: Setup) -> None:
    """The replay after a lost reply (here: a push whose reply was lost, sent again)."""
    budget_key = setup.counters._budget_key(setup.check.ref)
    for _ in range(3):
        setup.counters._unconfirmed[41] = {budget_key: COST}
        await setup.counters._add_pending_spend()
    assert await setup.shared_spend() == COST
    setup.counters._unconfirmed[42] = {budget_key: COST}
    await setup.counters._add_pending_spend()
    assert await setup.shared_spend() == 2 * COST
