"""Redis cut under load from 6 clients on two real replicas (through a TCP proxy this test
owns; the shared Redis is never touched): no request fails, each replica enforces the limits
on its own meanwhile, every answered request has exactly one spend row (the local journal
takes them), and when Redis is back the limits are shared again and `/key/info` agrees with
the rows, without restarts. The latencies are printed (`-s`), not asserted: the figure goes
in the README."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.replicas import Load, Replicas, p99, scratch_database, two_replicas, wait_for
from tests.reliability.tcp_proxy import TcpProxy, tcp_proxy

ECHO = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Replicas, TcpProxy]]:
    with (
        scratch_database() as database,
        tcp_proxy("127.0.0.1", 6379) as proxy,
        two_replicas(tmp_path, database, f"redis://127.0.0.1:{proxy.port}/0") as running,
    ):
        yield running, proxy


def _burst(replicas: Replicas, key: str, replica: int, count: int) -> list[int]:
    with httpx.Client(
        base_url=replicas.gateways[replica].url,
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    ) as client:
        return [client.post("/v1/chat/completions", json=ECHO).status_code for _ in range(count)]


def _minute() -> int:
    return int(time.time() // 60)


def test_redis_outage_under_load(proxied: tuple[Replicas, TcpProxy]) -> None:
    replicas, proxy = proxied
    free = replicas.new_key()
    limited = replicas.new_key(rpm_limit=5)
    load = Load(replicas, free)
    load.start()
    try:
        assert wait_for(lambda: len(load.answers) >= 300, timeout=120)
        normal = len(load.answers)
        proxy.cut()
        started = _minute()
        per_replica = [_burst(replicas, limited, replica, 8) for replica in (0, 1)]
        crossed = _minute() != started
        assert wait_for(lambda: len(load.answers) >= normal + 300, timeout=120)
        cut_end = len(load.answers)
        proxy.restore()
        assert wait_for(
            lambda: all("limits and spend are shared" in g.log() for g in replicas.gateways),
            timeout=30,
        )
        recovered = len(load.answers)
        assert wait_for(lambda: len(load.answers) >= recovered + 200, timeout=120)
    finally:
        load.stop()

    statuses = Counter(a.status for a in load.answers)
    assert set(statuses) == {200}, statuses  # no request failed because of the outage

    # Meanwhile each replica enforced rpm 5 on its own (exact per replica).
    for answered in per_replica:
        assert set(answered) <= {200, 429}
        assert answered.count(200) == 5 or (crossed and answered.count(200) <= 8)

    # Shared again after the restore: one rpm budget over both replicas.
    shared = replicas.new_key(rpm_limit=4)
    started = _minute()
    both = _burst(replicas, shared, 0, 3) + _burst(replicas, shared, 1, 3)
    if _minute() == started:
        assert both.count(200) == 4, both

    answered = {a.request_id for a in load.answers if a.status == 200}

    def all_rows_in() -> bool:
        return answered <= {str(r["request_id"]) for r in replicas.spend_rows(free)}

    assert wait_for(all_rows_in, timeout=60, step=0.5)
    rows = replicas.spend_rows(free)
    assert max(Counter(str(r["request_id"]) for r in rows).values()) == 1
    total = sum(float(str(r["spend"])) for r in rows)
    # The spend counted locally during the outage was added to the shared total on recovery,
    # and a settlement in flight at the cut counts once whether Redis ran it or not.
    for via in (0, 1):
        counted = replicas.key_spend(free, via)
        assert counted == pytest.approx(total, rel=1e-9, abs=1e-12), (counted, total)

    before = [a.seconds for a in load.answers[:normal]]
    during = [a.seconds for a in load.answers[normal:cut_end]]
    print(
        f"\nlatency p99 before the cut: {p99(before) * 1000:.1f} ms ({len(before)} requests); "
        f"during the outage: {p99(during) * 1000:.1f} ms ({len(during)} requests)"
    )
