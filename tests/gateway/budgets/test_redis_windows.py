"""Budget windows shared through real Redis: one seed from the spend logs for all replicas,
one count, and what a replica counted while Redis was away added when it is back. The
replica under test reaches Redis through a TCP proxy the test controls."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from gateway.budgets.redis_alert_once import RedisAlertOnce
from gateway.budgets.redis_windows import RedisSpendWindows
from gateway.budgets.windows import LoadSpent, Window
from gateway.shared_redis import RedisCircuit, build_redis_client
from tests.reliability.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.components import REDIS_URL, require_component, tcp_port_open

pytestmark = pytest.mark.anyio


@dataclass
class Replicas:
    proxied: RedisSpendWindows  # the replica whose Redis the test cuts
    other: RedisSpendWindows
    proxy: TcpProxy
    namespace: str

    async def wait_until_shared_again(self) -> None:
        for _ in range(750):  # 15 s: the probe runs every 50 ms
            if self.proxied.circuit.available:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the circuit did not close after Redis came back")


def loader(value: float, calls: list[float]) -> LoadSpent:
    async def load() -> float:
        calls.append(value)
        return value

    return load


@pytest.fixture
def redis_port() -> Iterator[int]:
    url = make_url(REDIS_URL)
    require_component(tcp_port_open(url.host or "127.0.0.1", url.port or 6379), "Redis")
    yield url.port or 6379


@pytest.fixture
async def replicas(redis_port: int) -> AsyncIterator[Replicas]:
    namespace = f"toolrelay:test-windows:{uuid.uuid4().hex}"
    with tcp_proxy("127.0.0.1", redis_port) as proxy:
        proxied_client = build_redis_client(f"redis://127.0.0.1:{proxy.port}/0", timeout=2.0)
        direct = build_redis_client(f"redis://127.0.0.1:{redis_port}/0", timeout=2.0)
        proxied_circuit = RedisCircuit(proxied_client, probe_seconds=0.05)
        other_circuit = RedisCircuit(direct)
        try:
            yield Replicas(
                RedisSpendWindows(proxied_client, proxied_circuit, namespace, "proxied"),
                RedisSpendWindows(direct, other_circuit, namespace, "other"),
                proxy,
                namespace,
            )
        finally:
            await proxied_circuit.aclose()
            await other_circuit.aclose()
            async for key in direct.scan_iter(match=f"{namespace}:*"):
                await direct.delete(key)
            await proxied_client.aclose()
            await direct.aclose()


def today() -> Window:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Window("proxy", midnight, midnight + timedelta(days=1))


async def test_replicas_seed_a_window_once_and_share_its_count(replicas: Replicas) -> None:
    window = today()
    seeds: list[float] = []
    assert await replicas.proxied.spent(window, loader(2.0, seeds)) == 2.0
    # The other replica's own reading of the logs is not used: the window is seeded.
    assert await replicas.other.spent(window, loader(5.0, seeds)) == 2.0
    assert seeds == [2.0]

    await replicas.proxied.add(window, 0.5)
    await replicas.other.add(window, 0.25)
    for replica in (replicas.proxied, replicas.other):
        assert await replica.spent(window, loader(99.0, seeds)) == 2.75
    assert seeds == [2.0]

    # Kept a day past the window's end, then gone.
    client: Redis = replicas.other.client
    expires = await client.expiretime(f"{replicas.namespace}:budget-window:{window.name}")
    assert window.ends_at is not None
    assert expires == int((window.ends_at + timedelta(days=1)).timestamp())


async def test_a_cost_is_added_only_to_a_seeded_window(replicas: Replicas) -> None:
    """An expired or never-seeded window is seeded from the spend logs, which hold the cost."""
    window = today()
    await replicas.other.add(window, 1.0)
    seeds: list[float] = []
    assert await replicas.other.spent(window, loader(1.0, seeds)) == 1.0
    assert seeds == [1.0]


async def test_what_was_counted_while_redis_was_away_is_shared_when_it_is_back(
    replicas: Replicas,
) -> None:
    window = today()
    assert await replicas.proxied.spent(window, loader(1.0, [])) == 1.0
    replicas.proxy.cut()
    await replicas.proxied.add(window, 0.5)  # fails on the wire: the circuit opens
    assert not replicas.proxied.circuit.available
    await replicas.proxied.add(window, 0.25)  # circuit open: counted here only
    # The replica counts on from the last shared figure it saw.
    assert await replicas.proxied.spent(window, loader(0.0, [])) == 1.75
    assert await replicas.other.spent(window, loader(0.0, [])) == 1.0

    replicas.proxy.restore()
    await replicas.wait_until_shared_again()
    assert await replicas.other.spent(window, loader(0.0, [])) == 1.75
    assert await replicas.proxied.spent(window, loader(0.0, [])) == 1.75


async def test_an_add_whose_reply_was_lost_counts_once(replicas: Replicas) -> None:
    window = today()
    assert await replicas.proxied.spent(window, loader(1.0, [])) == 1.0
    await replicas.proxied.add(window, 0.5)  # the script is loaded: a lost reply is a run's
    replicas.proxy.lose_replies()
    await replicas.proxied.add(window, 0.25)  # Redis runs it; the reply never comes
    assert not replicas.proxied.circuit.available
    assert await replicas.other.spent(window, loader(0.0, [])) == 1.75

    replicas.proxy.restore()
    await replicas.wait_until_shared_again()  # the replay ran: a no-op
    assert await replicas.other.spent(window, loader(0.0, [])) == 1.75
    assert replicas.proxied._unconfirmed == {}


async def test_one_replica_sends_a_once_per_window_alert(replicas: Replicas) -> None:
    first = RedisAlertOnce(replicas.proxied.client, replicas.proxied.circuit, replicas.namespace)
    second = RedisAlertOnce(replicas.other.client, replicas.other.circuit, replicas.namespace)
    ends = today().ends_at
    assert await first.claim("soft:key:k:1", ends) is True
    assert await second.claim("soft:key:k:1", ends) is False
    assert await second.claim("soft:key:k:2", ends) is True  # the next window
    await first.release("soft:key:k:1")  # spend was reset: alert again
    assert await second.claim("soft:key:k:1", ends) is True
    # Redis away: each replica alerts on its own rather than not at all.
    replicas.proxy.cut()
    await replicas.proxied.spent(today(), loader(0.0, []))  # trips the circuit
    assert not replicas.proxied.circuit.available
    assert await first.claim("soft:key:k:1", ends) is True
