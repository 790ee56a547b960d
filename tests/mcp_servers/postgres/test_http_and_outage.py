"""The postgres server over real HTTP, and its behaviour while the database is down."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest

from mcp_servers.postgres import build_app
from tests.mcp_servers.postgres.conftest import Fixture, TcpProxy, call, pg_client
from tests.mcp_servers.support import Transport, mcp_client, serve_in_thread
from tests.support.components import POSTGRES_DSN

pytestmark = pytest.mark.anyio

TOKEN = "pg-test-token"


@pytest.fixture(scope="module")
def base_url(pg: Fixture) -> Iterator[str]:
    with serve_in_thread(
        build_app({"dsn": POSTGRES_DSN, "auth_token": TOKEN, "max_rows": 5})
    ) as url:
        yield url


async def test_tools_over_http(base_url: str, transport: Transport, pg: Fixture) -> None:
    async with mcp_client(base_url, transport, token=TOKEN) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"execute_sql", "describe_table"} <= names
        is_error, text = await call(
            client, "execute_sql", {"sql": f"SELECT count(*) AS n FROM {pg.schema}.items"}
        )
        assert not is_error and "| 30 |" in text
        is_error, text = await call(
            client, "execute_sql", {"sql": f"DROP TABLE {pg.schema}.sentinel"}
        )
        assert is_error and "not a read-only statement" in text


async def test_healthz_checks_the_database(base_url: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base_url}/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "server": "postgres", "database": "ok"}
        assert (await http.post(f"{base_url}/mcp", json={})).status_code == 401


async def test_database_down_is_a_tool_error_and_the_server_recovers(proxy_port: int) -> None:
    proxy = TcpProxy(proxy_port)
    dsn = f"postgresql://postgres@127.0.0.1:{proxy_port}/test"
    async with anyio.create_task_group() as tg, pg_client(dsn=dsn, connect_timeout_s=2) as client:
        # Never up: connecting fails.
        is_error, text = await call(client, "list_schemas")
        assert is_error and "database unavailable" in text
        is_error, text = await call(client, "execute_sql", {"sql": "SELECT 1"})
        assert is_error and "database unavailable" in text

        await proxy.start(tg)
        is_error, text = await call(client, "execute_sql", {"sql": "SELECT 1 AS one"})
        assert not is_error and "| 1 |" in text

        # Down again: pooled connections are cut mid-life.
        proxy.stop()
        is_error, text = await call(client, "execute_sql", {"sql": "SELECT 1 AS one"})
        assert is_error and "database unavailable" in text
        is_error, text = await call(client, "list_tables")
        assert is_error and "database unavailable" in text

        await proxy.start(tg)
        is_error, text = await call(client, "list_tables")
        assert not is_error, text
        is_error, text = await call(client, "execute_sql", {"sql": "SELECT 2 AS two"})
        assert not is_error and "| 2 |" in text
        proxy.stop()
