"""PostgreSQL cut and restored under a real gateway process (through a TCP proxy this test
owns; the shared server is never touched): cached keys keep working, management answers a clean
503, and after the restore every spend row is in the database without a restart."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import asyncpg
import httpx
import pytest

from tests.reliability.stack import Stack, start_gateway, start_upstream, wait_spend_rows
from tests.reliability.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.components import POSTGRES_DSN, require_component, tcp_port_open

CHAT = {"model": "echo", "messages": [{"role": "user", "content": "x"}]}


async def _admin_sql(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def database() -> Iterator[str]:
    require_component(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    name = f"rel_{uuid.uuid4().hex[:12]}"
    anyio.run(_admin_sql, f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        anyio.run(_admin_sql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with tcp_proxy("127.0.0.1", 5432) as running:
        yield running


def test_postgres_cut_and_restored(tmp_path: Path, database: str, proxy: TcpProxy) -> None:
    upstream = start_upstream(tmp_path)
    dsn = f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}"
    try:
        gateway = start_gateway(
            tmp_path, upstream.url, tmp_path / "home", env={"DATABASE_URL": dsn}
        )
        stack = Stack(upstream, gateway, tmp_path / "home")
        try:
            key = stack.new_key()
            headers = {"authorization": f"Bearer {key}"}
            with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as client:
                for _ in range(5):
                    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
                assert len(wait_spend_rows(stack, key, 5)) == 5

                proxy.cut()
                for _ in range(20):  # the key is cached: requests go on while the DB is away
                    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
                with stack.admin() as admin:
                    refused = admin.post("/key/generate", json={})
                    assert refused.status_code == 503, refused.text
                    assert "error" in refused.json()
                    assert dsn not in refused.text

                proxy.restore()
                rows = wait_spend_rows(stack, key, 25, timeout=60)
                assert len(rows) == 25
                assert stack.new_key()  # management works again without a restart
            assert dsn not in gateway.log()
        finally:
            gateway.stop()
    finally:
        upstream.stop()
