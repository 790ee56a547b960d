"""Auth and limits never wait on the database: cached keys keep working while it is away,
unknown keys get 503 (or pass, with allow_requests_on_db_unavailable), and changes reach
other instances through Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.gateway.spend.tcp_proxy import TcpProxy
from tests.gateway.store.databases import (
    CHAT,
    admin,
    bearer,
    clear_shared_counters,
    database_url,
    gateway_config,
    postgres_database,
    running_gateway,
    state_of,
)
from tests.support.components import REDIS_URL, require_component, tcp_port_open

__all__ = ["database_url", "postgres_database"]


@pytest.mark.anyio
async def test_requests_with_cached_keys_run_no_database_statement(
    database_url: str, tmp_path: Path
) -> None:
    config = gateway_config(database_url, proxy_batch_write_at=3600)
    async with running_gateway(config, tmp_path) as (app, client):
        accounts = state_of(app).accounts
        assert accounts is not None
        team = (await client.post("/team/new", headers=admin(), json={"max_budget": 1000})).json()
        keys = [
            (
                await client.post(
                    "/key/generate",
                    headers=admin(),
                    json={"team_id": team["team_id"], "rpm_limit": 1000, "max_budget": 1000},
                )
            ).json()["key"]
            for _ in range(3)
        ]
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(accounts.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            for i in range(30):
                body = {**CHAT, "user": f"end-{i % 4}"}
                response = await client.post(
                    "/v1/chat/completions", headers=bearer(keys[i % 3]), json=body
                )
                assert response.status_code == 200
                own = await client.get("/key/info", headers=bearer(keys[i % 3]))
                assert own.status_code == 200
        finally:
            event.remove(accounts.db.engine.sync_engine, "before_cursor_execute", count)
        assert statements == []
        assert len(accounts.writer.queue) == 30


@pytest.mark.anyio
@pytest.mark.parametrize("allow", [False, True])
async def test_database_down_cached_keys_pass_unknown_keys_refused_unless_allowed(
    postgres_database: str, tmp_path: Path, allow: bool
) -> None:
    url = make_url(postgres_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    config = gateway_config(proxied, allow_requests_on_db_unavailable=allow)
    try:
        async with running_gateway(config, tmp_path) as (_app, client):
            key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
            proxy.cut()
            cached = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
            assert cached.status_code == 200
            unknown = await client.post("/v1/chat/completions", headers=bearer("sk-x"), json=CHAT)
            if allow:
                assert unknown.status_code == 200
            else:
                assert unknown.status_code == 503
                assert unknown.json()["error"]["code"] == "database_unavailable"
            change = await client.post("/key/generate", headers=admin(), json={})
            assert change.status_code == 503
            proxy.restore()
    finally:
        await proxy.stop()


@pytest.mark.anyio
async def test_changes_reach_other_instances_through_redis(
    postgres_database: str, tmp_path: Path
) -> None:
    redis_url = make_url(REDIS_URL)
    require_component(tcp_port_open(redis_url.host or "127.0.0.1", redis_url.port or 6379), "Redis")
    env = {"REDIS_URL": REDIS_URL}
    config = gateway_config(postgres_database)
    async with (
        running_gateway(config, tmp_path / "a", environ=env) as (_a, first),
        running_gateway(config, tmp_path / "b", environ=env) as (b, second),
    ):
        created = (await first.post("/key/generate", headers=admin(), json={})).json()
        key, token = created["key"], created["token"]
        # The second instance finds the new key in the database on first sight...
        assert (
            await second.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        ).status_code == 200
        # ...and hears about the block through Redis, with no database read on its request path.
        await first.post("/key/block", headers=admin(), json={"key": key})
        cache = state_of(b).accounts.cache  # type: ignore[union-attr]
        with anyio.fail_after(10):
            for _ in range(1000):
                found = cache.get("key", token)
                if found is not None and found.limits.blocked:
                    break
                await asyncio.sleep(0.01)
        blocked = await second.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        assert blocked.status_code == 401
        await clear_shared_counters(b)


@pytest.mark.anyio
async def test_open_mode_accepts_any_key_and_still_applies_virtual_key_limits(
    tmp_path: Path,
) -> None:
    config = gateway_config(None, master_key=None)
    async with running_gateway(config, tmp_path) as (_app, client):
        anything = await client.post("/v1/chat/completions", headers=bearer("sk-any"), json=CHAT)
        assert anything.status_code == 200
        assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
        key = (await client.post("/key/generate", json={"models": ["other"]})).json()["key"]
        limited = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        assert limited.status_code == 403


@pytest.mark.anyio
async def test_without_redis_instances_converge_by_periodic_refresh(tmp_path: Path) -> None:
    config = gateway_config(f"sqlite:///{tmp_path / 'shared.db'}")
    async with (
        running_gateway(config, tmp_path / "a") as (_a, first),
        running_gateway(config, tmp_path / "b") as (b, second),
    ):
        key = (await first.post("/key/generate", headers=admin(), json={})).json()["key"]
        assert (
            await second.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        ).status_code == 200
        await first.post("/key/block", headers=admin(), json={"key": key})
        await first.post("/team/new", headers=admin(), json={"team_id": "t-new"})
        accounts = state_of(b).accounts
        assert accounts is not None and accounts.maintenance.refresh_entities
        await accounts.maintenance.run_once()
        assert (
            await second.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        ).status_code == 401
        assert accounts.cache.get("team", "t-new") is not None
        await first.post("/key/delete", headers=admin(), json={"keys": [key]})
        await accounts.maintenance.run_once()
        assert accounts.cache.all("key") == []
