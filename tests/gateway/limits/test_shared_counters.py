"""With Redis configured, two gateway instances on one store share rpm, parallel and spend
counters: the limits hold across them as they do within one."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy.engine import make_url

from gateway.limits.redis_counters import RedisCounters
from tests.gateway.store.databases import (
    CHAT,
    admin,
    bearer,
    clear_shared_counters,
    gateway_config,
    postgres_database,
    running_gateway,
    state_of,
)
from tests.support.components import REDIS_URL, require_component, tcp_port_open

__all__ = ["postgres_database"]


@pytest.fixture
def redis_env() -> dict[str, str]:
    url = make_url(REDIS_URL)
    require_component(tcp_port_open(url.host or "127.0.0.1", url.port or 6379), "Redis")
    return {
        "REDIS_URL": REDIS_URL,
        # Shared counts are what these tests check: a call that times out on a loaded host
        # would take its degraded (per-replica) mode, so give the hot path room here.
        "REDIS_SOCKET_TIMEOUT": "5",
    }


@pytest.mark.anyio
async def test_two_instances_share_rpm_and_budget(
    postgres_database: str, tmp_path: Path, redis_env: dict[str, str]
) -> None:
    config = gateway_config(postgres_database)
    async with (
        running_gateway(config, tmp_path / "a", environ=redis_env) as (_a, first),
        running_gateway(config, tmp_path / "b", environ=redis_env) as (_b, second),
    ):
        counters = state_of(_a).accounts.limits_hook.counters  # type: ignore[union-attr]
        assert isinstance(counters, RedisCounters)
        limited = (
            await first.post("/key/generate", headers=admin(), json={"rpm_limit": 5})
        ).json()["key"]
        with anyio.fail_after(30):
            responses = await asyncio.gather(
                *(
                    client.post("/v1/chat/completions", headers=bearer(limited), json=CHAT)
                    for client in [first, second] * 5
                )
            )
        statuses = sorted(r.status_code for r in responses)
        # A minute boundary inside the burst would open a second window; in practice never.
        assert statuses.count(200) in (5, 10) and statuses.count(200) + statuses.count(429) == 10

        budgeted = (
            await first.post("/key/generate", headers=admin(), json={"max_budget": 3})
        ).json()["key"]
        answered = []
        for client in [first, second, first, second, first]:
            answered.append(
                (
                    await client.post("/v1/chat/completions", headers=bearer(budgeted), json=CHAT)
                ).status_code
            )
        # Each call costs 1.0: three are admitted wherever they land, then both refuse.
        assert answered == [200, 200, 200, 422, 422]
        info = (await second.get("/key/info", headers=bearer(budgeted))).json()
        assert info["info"]["spend"] == 3.0

        # An admin reset on one instance reopens the budget on both.
        await first.post("/key/update", headers=admin(), json={"key": budgeted, "spend": 0})
        again = await second.post("/v1/chat/completions", headers=bearer(budgeted), json=CHAT)
        assert again.status_code == 200
        await clear_shared_counters(_a)


@pytest.mark.anyio
async def test_redis_down_falls_back_to_local_limits(tmp_path: Path) -> None:
    from tests.support.processes import free_port

    env = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens there
    config = gateway_config(None)
    async with running_gateway(config, tmp_path, environ=env) as (_app, client):
        key = (await client.post("/key/generate", headers=admin(), json={"rpm_limit": 2})).json()[
            "key"
        ]
        answered = [
            (await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)).status_code
            for _ in range(3)
        ]
        assert answered[:2] == [200, 200] and answered[2] in (200, 429)
        reset = await client.post("/key/update", headers=admin(), json={"key": key, "spend": 0})
        assert reset.status_code == 200


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) and never answers: a hung Redis."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.mark.anyio
async def test_hung_redis_opens_the_circuit_after_repeated_timeouts(
    tmp_path: Path, silent_redis: str
) -> None:
    config = gateway_config(None)
    async with running_gateway(config, tmp_path, environ={"REDIS_URL": silent_redis}) as (
        app,
        client,
    ):
        key = (await client.post("/key/generate", headers=admin(), json={"rpm_limit": 5})).json()[
            "key"
        ]
        answered = [
            (await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)).status_code
            for _ in range(6)
        ]
        # every call is served (a timed-out admission counts locally) and the limit still holds
        assert answered == [200] * 5 + [429]
        shared = state_of(app).redis
        assert shared is not None and not shared.circuit.available
