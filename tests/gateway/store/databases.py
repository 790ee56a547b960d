"""Shared fixtures for store-backed tests: the same test runs against SQLite and PostgreSQL.

PostgreSQL gets one fresh database per test session (`toolrelay_keys_<random>`), dropped at
the end; each test starts from empty tables. Imported by the conftest of every directory
that needs them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import config_from_mapping
from gateway.state import GatewayState
from gateway.store import open_database, tables
from tests.support.components import POSTGRES_DSN, require_component, tcp_port_open

MASTER = "sk-master-test"
PRICE = 0.05  # per token, input and output: a 10+10 token call costs exactly 1.0


def _server_dsn() -> str:
    return POSTGRES_DSN


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_server_dsn())
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of our own for this session (SQLAlchemy URL)."""
    url = make_url(_server_dsn())
    require_component(
        tcp_port_open(url.host or "127.0.0.1", url.port or 5432), "PostgreSQL on 127.0.0.1:5432"
    )
    name = f"toolrelay_keys_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A `database_url` setting for an empty store (None means the SQLite default)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_empty(url))
    return url


async def _empty(url: str) -> None:
    from gateway.store import database_url_for

    db = await open_database(database_url_for(url, Path(".")))
    try:
        async with db.engine.begin() as connection:
            for table in reversed(tables.metadata.sorted_tables):
                await connection.execute(delete(table))
    finally:
        await db.close()


def usage_upstream(prompt: int = 10, completion: int = 10) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        if b'"stream":true' in request.content:
            events = (
                b'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"yo"}}]}\n\n'
                b'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":'
                + f'{{"prompt_tokens":{prompt},"completion_tokens":{completion}}}'.encode()
                + b"}\n\ndata: [DONE]\n\n"
            )
            return httpx.Response(
                200, content=events, headers={"content-type": "text/event-stream"}
            )
        message = {"role": "assistant", "content": "hi"}
        return httpx.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": usage,
            },
        )

    return httpx.MockTransport(handle)


def gateway_config(database_url: str | None, **general: Any) -> dict[str, Any]:
    params = {
        "api_base": "http://upstream.test/v1",
        "api_key": "upstream-key",
        "input_cost_per_token": PRICE,
        "output_cost_per_token": PRICE,
    }
    return {
        "model_list": [
            {"model_name": "m", "litellm_params": {"model": "openai/m", **params}},
            {"model_name": "other", "litellm_params": {"model": "openai/other", **params}},
        ],
        "general_settings": {
            "master_key": MASTER,
            "database_url": database_url,
            "proxy_batch_write_at": 0.05,
            **general,
        },
    }


@asynccontextmanager
async def running_gateway(
    config: dict[str, Any],
    data_dir: Path,
    transport: httpx.AsyncBaseTransport | None = None,
    environ: dict[str, str] | None = None,
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app with its lifespan running (store opened, writer started) and a client."""
    upstream = httpx.AsyncClient(transport=transport or usage_upstream())
    loaded = config_from_mapping(config, environ=environ or {})
    app = create_app(loaded, http=upstream, data_dir=data_dir)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield app, client


def state_of(app: Starlette) -> GatewayState:
    state = app.state.gateway
    assert isinstance(state, GatewayState)
    return state


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {MASTER}"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def clear_shared_counters(app: Starlette) -> None:
    """Remove the Redis counters a test made (Redis is shared with other suites)."""
    accounts = state_of(app).accounts
    counters = accounts.limits_hook.counters if accounts is not None else None
    client = getattr(counters, "client", None)
    if client is None:
        return
    stale = [k async for k in client.scan_iter(match=f"{counters.namespace}:*")]  # type: ignore[union-attr]
    if stale:
        await client.delete(*stale)
