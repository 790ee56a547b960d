"""No spend row is lost: not while PostgreSQL is unreachable (queued, spilled to disk, written
when it is back), and not when the gateway process is stopped with SIGTERM under load."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import anyio
import asyncpg
import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from gateway.spend.writer import SpendWriter
from testing.fake_upstream import serve_in_thread
from tests.gateway.spend.tcp_proxy import TcpProxy
from tests.gateway.store.databases import (
    CHAT,
    MASTER,
    admin,
    bearer,
    gateway_config,
    running_gateway,
    state_of,
)
from tests.support.processes import free_port, start_service


async def flush_until_written(writer: SpendWriter) -> None:
    """The pool may hold connections that died with the outage; a retry gets fresh ones."""
    with anyio.fail_after(30):
        for _ in range(300):
            if await writer.flush():
                return
            await asyncio.sleep(0.05)
    raise AssertionError("spend rows were never written")


async def stored_request_ids(database_url: str) -> set[str]:
    connection = await asyncpg.connect(database_url)
    try:
        return {
            r["request_id"] for r in await connection.fetch("SELECT request_id FROM spend_logs")
        }
    finally:
        await connection.close()


@pytest.mark.anyio
async def test_rows_survive_a_database_outage(postgres_database: str, tmp_path: Path) -> None:
    url = make_url(postgres_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    async with running_gateway(gateway_config(proxied), tmp_path) as (app, client):
        accounts = state_of(app).accounts
        assert accounts is not None
        accounts.writer.max_queue = 10  # small, so the outage also exercises the spill file
        key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
        done: list[str] = []

        async def send(n: int) -> None:
            for _ in range(n):
                response = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
                assert response.status_code == 200, response.text
                done.append(response.headers["x-request-id"])

        await send(10)
        assert await accounts.writer.flush()

        proxy.cut()
        await send(30)  # a cached key keeps working while the database is away
        assert not await accounts.writer.flush()
        assert (tmp_path / "spend-spill.jsonl").exists()
        ready = (await client.get("/health/readiness")).json()
        assert ready["db"] == "disconnected"
        unknown = await client.post("/v1/chat/completions", headers=bearer("sk-new"), json=CHAT)
        assert unknown.status_code == 503

        proxy.restore()
        await flush_until_written(accounts.writer)
        assert not (tmp_path / "spend-spill.jsonl").exists()
        assert (await client.get("/health/readiness")).json()["db"] == "connected"
        await send(5)
    # Shutdown flushed the last five.
    await proxy.stop()
    assert len(done) == 45
    assert set(done) <= await stored_request_ids(postgres_database)


@pytest.mark.anyio
async def test_rows_spilled_at_shutdown_are_written_at_next_start(
    postgres_database: str, tmp_path: Path
) -> None:
    url = make_url(postgres_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    done: list[str] = []
    async with running_gateway(gateway_config(proxied), tmp_path) as (app, client):
        key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
        proxy.cut()
        for _ in range(7):
            response = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
            done.append(response.headers["x-request-id"])
        state_of(app).accounts.writer.interval = 3600  # type: ignore[union-attr]
    assert (tmp_path / "spend-spill.jsonl").exists()
    proxy.restore()
    async with running_gateway(gateway_config(proxied), tmp_path) as (app, _client):
        await flush_until_written(state_of(app).accounts.writer)  # type: ignore[union-attr]
    await proxy.stop()
    assert set(done) <= await stored_request_ids(postgres_database)


def test_sigterm_under_load_writes_every_completed_request(
    postgres_database: str, tmp_path: Path, service_log_dir: Path
) -> None:
    with serve_in_thread() as upstream:
        config = {
            "model_list": [
                {
                    "model_name": "slow",
                    "litellm_params": {
                        "model": "openai/latency-30",
                        "api_base": f"{upstream}/v1",
                        "api_key": "x",
                    },
                }
            ],
            "general_settings": {"master_key": MASTER, "proxy_batch_write_at": 30},
        }
        config_path = tmp_path / "config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        port = free_port()
        gateway = start_service(
            "gateway",
            ["-m", "toolrelay", "gateway", "--config", str(config_path), "--port", str(port)],
            port=port,
            log_dir=service_log_dir,
            env={"DATABASE_URL": postgres_database, "TOOLRELAY_HOME": str(tmp_path / "home")},
        )
        completed: list[str] = []
        try:
            completed = asyncio.run(_load_then_sigterm(gateway.url, gateway.process.send_signal))
            gateway.process.wait(60)
        finally:
            gateway.stop()
        # uvicorn re-raises the signal after its graceful shutdown.
        assert gateway.process.returncode in (0, -signal.SIGTERM), gateway.log()
        assert "spend writer stopped" in gateway.log()
    assert len(completed) >= 20
    assert set(completed) <= asyncio.run(stored_request_ids(postgres_database)), gateway.log()


async def _load_then_sigterm(base_url: str, send_signal: object) -> list[str]:
    completed: list[str] = []
    enough = asyncio.Event()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
        stop = asyncio.Event()

        async def worker() -> None:
            while not stop.is_set():
                try:
                    response = await client.post(
                        "/v1/chat/completions", headers=bearer(key), json={**CHAT, "model": "slow"}
                    )
                except httpx.TransportError:
                    return  # the server is shutting down
                if response.status_code == 200:
                    completed.append(response.headers["x-request-id"])
                    if len(completed) >= 20:
                        enough.set()

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(worker)
                await enough.wait()
                send_signal(signal.SIGTERM)  # type: ignore[operator]
                stop.set()
    return completed
