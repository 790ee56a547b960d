"""SIGKILL of one of two gateway replicas (real processes sharing PostgreSQL and Redis):

- under load from 6 clients, every request the killed replica answered with a 200 has
  exactly one spend row, `/key/info` agrees with the rows, and the survivor answers all;
- the killed replica's limit slots and budget reservations come back to the survivor within
  one lease (15 s bound here), instead of stranding the key.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from gateway.keys.hashing import hash_key
from tests.reliability.replicas import (
    Load,
    Replicas,
    scratch_database,
    two_replicas,
    wait_for,
)
from tests.support.components import REDIS_URL

LEASE_BOUND_SECONDS = 15.0
ECHO = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Replicas]:
    with scratch_database() as database, two_replicas(tmp_path, database, REDIS_URL) as running:
        yield running


def _hold(replicas: Replicas, key: str, body: dict[str, object]) -> list[threading.Thread]:
    """Two requests on replica 0 that stay in flight (the upstream answers after 30 s)."""

    def send() -> None:
        with contextlib.suppress(httpx.TransportError):  # the replica is killed under it
            httpx.post(
                f"{replicas.gateways[0].url}/v1/chat/completions",
                json=body,
                headers={"authorization": f"Bearer {key}"},
                timeout=60,
            )

    threads = [threading.Thread(target=send, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    return threads


def _in_flight(key: str) -> int:
    direct = redis.Redis.from_url(REDIS_URL)
    try:
        pattern = f"toolrelay:limits:*:key:{hash_key(key)}:inflight"
        return sum(
            int(count)
            for name in direct.scan_iter(match=pattern, count=10_000)
            for count in direct.hvals(name)
        )
    finally:
        direct.close()


def _survivor(replicas: Replicas, key: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{replicas.gateways[1].url}/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_spend_of_a_killed_replica_is_not_lost(replicas: Replicas) -> None:
    key = replicas.new_key()
    load = Load(replicas, key)
    load.start()
    try:
        assert wait_for(lambda: load.count(0) >= 150 and load.count(1) >= 150, timeout=120)
        replicas.kill(0)
        load.alive[0] = False
        killed_at = len(load.answers)
        assert wait_for(lambda: len(load.answers) >= killed_at + 200, timeout=120)
    finally:
        load.stop()

    answered = {a.request_id for a in load.answers if a.status == 200}
    survivor = [a for a in load.answers if a.replica == 1]
    assert {a.status for a in survivor} == {200}, Counter(a.status for a in survivor)
    assert load.count(0) >= 150

    def all_rows_in() -> bool:
        ids = {str(r["request_id"]) for r in replicas.spend_rows(key)}
        return answered <= ids

    # Rows the killed writer had read but not stored are claimed after 15 s idle.
    assert wait_for(all_rows_in, timeout=60, step=0.5)
    rows = replicas.spend_rows(key)
    per_request = Counter(str(r["request_id"]) for r in rows)
    assert all(per_request[request_id] == 1 for request_id in answered)
    assert max(per_request.values()) == 1  # no duplicates, not even for unanswered ones
    total = sum(float(str(r["spend"])) for r in rows)
    assert replicas.key_spend(key) == pytest.approx(total, rel=1e-9, abs=1e-12)


def test_parallel_slots_of_a_killed_replica_come_back(replicas: Replicas) -> None:
    key = replicas.new_key(max_parallel_requests=2)
    _hold(replicas, key, {"model": "held", "messages": [{"role": "user", "content": "hi"}]})
    # Wait on Redis, not on survivor probes: a probe sent before the held requests arrive takes
    # a slot for a moment, and the second held request would be the one refused.
    assert wait_for(lambda: _in_flight(key) == 2, timeout=30)
    # Both slots are taken on replica 0: the survivor refuses.
    refused = _survivor(replicas, key, ECHO)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "parallel_request_limit_exceeded"

    replicas.kill(0)
    assert wait_for(
        lambda: _survivor(replicas, key, ECHO).status_code == 200,
        timeout=LEASE_BOUND_SECONDS,
        step=0.25,
    )


def test_budget_reservations_of_a_killed_replica_come_back(replicas: Replicas) -> None:
    key = replicas.new_key(max_budget=1.0)
    # 300k output tokens at $0.000002 reserve $0.60 each: two in flight exhaust the budget.
    big = {
        "model": "held",
        "max_tokens": 300_000,
        "messages": [{"role": "user", "content": "hi"}],
    }
    _hold(replicas, key, big)
    assert wait_for(lambda: _survivor(replicas, key, ECHO).status_code == 422, timeout=30)
    refused = _survivor(replicas, key, ECHO)
    assert refused.json()["error"]["code"] == "budget_exceeded"
    assert "+1.200000 in flight" in refused.json()["error"]["message"]

    direct = redis.Redis.from_url(REDIS_URL)
    try:
        pattern = f"toolrelay:limits:*:key:{hash_key(key)}:reserved"
        (reserved_key,) = list(direct.scan_iter(match=pattern, count=10_000))

        def reserved() -> float:
            return sum(float(v) for v in direct.hvals(reserved_key))

        assert reserved() == pytest.approx(1.2)
        replicas.kill(0)
        # The survivor's heartbeat sweeps the dead replica's reservations, with no traffic.
        assert wait_for(lambda: reserved() == 0.0, timeout=LEASE_BOUND_SECONDS, step=0.25)
    finally:
        direct.close()
    assert _survivor(replicas, key, ECHO).status_code == 200
