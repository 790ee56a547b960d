"""Redis cut and restored under a real gateway process (through a TCP proxy this test owns;
the shared Redis is never touched): requests keep being served on local counters while it is
away, limits still apply, and it is used again after the restore without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.stack import Stack, start_gateway, start_upstream, wait_spend_rows
from tests.reliability.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.components import require_component, tcp_port_open

CHAT = {"model": "echo", "messages": [{"role": "user", "content": "x"}]}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    require_component(tcp_port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    with tcp_proxy("127.0.0.1", 6379) as running:
        yield running


def test_redis_cut_and_restored(tmp_path: Path, proxy: TcpProxy) -> None:
    upstream = start_upstream(tmp_path)
    redis_url = f"redis://127.0.0.1:{proxy.port}/0"
    try:
        home = tmp_path / "home"
        gateway = start_gateway(tmp_path, upstream.url, home, env={"REDIS_URL": redis_url})
        stack = Stack(upstream, gateway, home)
        try:
            key = stack.new_key(rpm_limit=25)
            with httpx.Client(
                base_url=gateway.url, headers={"authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                statuses = [client.post("/v1/chat/completions", json=CHAT).status_code]
                proxy.cut()
                statuses += [
                    client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(10)
                ]
                assert statuses == [200] * 11
                proxy.restore()
                statuses = [
                    client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(30)
                ]
                # the limit holds again after the restore (calls made during the outage were
                # counted locally, so at most one window's worth passes here)
                assert statuses.count(200) <= 25
                assert 429 in statuses
                assert set(statuses) <= {200, 429}
            sent_ok = 11 + statuses.count(200)
            assert len(wait_spend_rows(stack, key, sent_ok)) >= sent_ok
            assert redis_url not in gateway.log()
        finally:
            gateway.stop()
    finally:
        upstream.stop()
