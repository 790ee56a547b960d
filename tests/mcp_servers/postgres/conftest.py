"""A throwaway schema with fixture tables in the real PostgreSQL, and MCP clients for it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import asyncpg
import pytest
from anyio.abc import SocketStream
from mcp import Client

from mcp_servers.postgres import Database, build_server, parse_settings
from tests.support.components import POSTGRES_DSN, require_component, tcp_port_open
from tests.support.processes import free_port


@dataclass(frozen=True)
class Fixture:
    schema: str
    role: str


@pytest.fixture(scope="module")
async def pg() -> AsyncIterator[Fixture]:
    require_component(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    suffix = uuid.uuid4().hex[:10]
    fixture = Fixture(schema=f"mcp_pg_{suffix}", role=f"mcp_pg_nobody_{suffix}")
    s = fixture.schema
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        await conn.execute(f"""
            CREATE SCHEMA {s};
            COMMENT ON SCHEMA {s} IS 'toolrelay postgres MCP tests';
            CREATE TABLE {s}.items (
                id serial PRIMARY KEY,
                name text NOT NULL UNIQUE,
                price numeric(10, 2) DEFAULT 0 CHECK (price >= 0),
                note text,
                data bytea
            );
            COMMENT ON TABLE {s}.items IS 'things for sale';
            CREATE TABLE {s}.orders (
                id serial PRIMARY KEY,
                item_id int NOT NULL REFERENCES {s}.items (id),
                qty int NOT NULL CHECK (qty > 0)
            );
            CREATE INDEX orders_item_idx ON {s}.orders (item_id);
            CREATE VIEW {s}.cheap_items AS SELECT * FROM {s}.items WHERE price < 5;
            CREATE TABLE {s}.sentinel (v int);
            INSERT INTO {s}.sentinel VALUES (42);
            CREATE SEQUENCE {s}.seq;
            INSERT INTO {s}.items (name, price, note)
                SELECT 'item ' || i, i, CASE WHEN i = 1 THEN 'pipe | and
newline' END FROM generate_series(1, 30) i;
            INSERT INTO {s}.orders (item_id, qty) VALUES (1, 2), (2, 1);
            CREATE ROLE {fixture.role} NOLOGIN;
        """)
        yield fixture
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE; DROP ROLE IF EXISTS {fixture.role}")
        await conn.close()


@asynccontextmanager
async def pg_client(**settings: Any) -> AsyncIterator[Client]:
    """An in-process MCP client for a postgres server built with `settings`."""
    db = Database(parse_settings({"dsn": POSTGRES_DSN, **settings}))
    try:
        async with Client(build_server(db)) as client:
            yield client
    finally:
        await db.close()


@pytest.fixture
async def client(pg: Fixture) -> AsyncIterator[Client]:
    async with pg_client(max_rows=10) as c:
        yield c


async def sentinel_state(schema: str) -> tuple[bool, list[int]]:
    """Whether the sentinel table exists, and its rows."""
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.sentinel")
        rows = (
            [r[0] for r in await conn.fetch(f"SELECT v FROM {schema}.sentinel")] if exists else []
        )
        return bool(exists), rows
    finally:
        await conn.close()


@dataclass
class TcpProxy:
    """A loopback TCP forwarder to PostgreSQL that a test can stop and start: a DB outage."""

    port: int
    target: tuple[str, int] = ("127.0.0.1", 5432)
    _scope: anyio.CancelScope | None = None

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
        scope = anyio.CancelScope()
        self._scope = scope

        async def run() -> None:
            with scope:
                async with listener:
                    await listener.serve(self._forward)

        task_group.start_soon(run)

    def stop(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
            self._scope = None

    async def _forward(self, client: SocketStream) -> None:
        async with (
            client,
            await anyio.connect_tcp(*self.target) as upstream,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(_pipe, client, upstream, tg.cancel_scope)
            tg.start_soon(_pipe, upstream, client, tg.cancel_scope)


async def _pipe(source: SocketStream, sink: SocketStream, scope: anyio.CancelScope) -> None:
    try:
        async for chunk in source:
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    scope.cancel()


@pytest.fixture
def proxy_port() -> int:
    return free_port()


async def call(
    client: Client, name: str, arguments: dict[str, Any] | None = None
) -> tuple[bool, str]:
    """Call a tool; return (is_error, text of the first content block)."""
    result = await client.call_tool(name, arguments or {})
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    return bool(result.is_error), text
