"""SIGTERM under load: in-flight requests finish, nothing new is accepted, and every spend row
queued in memory is flushed before the process exits (batch interval set far beyond the test)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.reliability.stack import Stack, start_gateway, start_upstream
from tests.support.processes import ServiceProcess

IN_FLIGHT = 30


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[ServiceProcess]:
    service = start_upstream(tmp_path)
    try:
        yield service
    finally:
        service.stop()


async def _recorded(upstream: ServiceProcess, model: str) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        entries = (await client.get(f"{upstream.url}/__fake__/requests")).json()["data"]
    return sum(
        1 for e in entries if isinstance(e.get("body"), dict) and e["body"].get("model") == model
    )


async def _wait_recorded(upstream: ServiceProcess, model: str, count: int) -> None:
    """The fake upstream records a request when it arrives: then it is in flight here."""
    seen = await _recorded(upstream, model)
    while seen < count:
        await anyio.sleep(0.02)
        seen = await _recorded(upstream, model)


@pytest.mark.anyio
async def test_sigterm_drains_in_flight_requests_and_flushes_spend(
    tmp_path: Path, upstream: ServiceProcess
) -> None:
    home = tmp_path / "home"
    gateway = start_gateway(tmp_path, upstream.url, home, batch_seconds=3600)
    stack = Stack(upstream, gateway, home)
    try:
        key = stack.new_key()
        statuses: list[int] = []
        accepted_late = 0
        headers = {"authorization": f"Bearer {key}"}
        body = {"model": "latency-1500", "messages": [{"role": "user", "content": "drain me"}]}
        async with httpx.AsyncClient(base_url=gateway.url, headers=headers, timeout=60) as client:

            async def one() -> None:
                response = await client.post("/v1/chat/completions", json=body)
                statuses.append(response.status_code)

            async with anyio.create_task_group() as tg:
                for _ in range(IN_FLIGHT):
                    tg.start_soon(one)
                with anyio.fail_after(20):
                    await _wait_recorded(upstream, "latency-1500", IN_FLIGHT)
                os.kill(gateway.process.pid, signal.SIGTERM)
                # New work is refused while the old work drains.
                with anyio.fail_after(10):
                    while True:
                        try:
                            async with httpx.AsyncClient(timeout=5) as fresh:
                                late = await fresh.post(
                                    f"{gateway.url}/v1/chat/completions", json=body, headers=headers
                                )
                        except httpx.TransportError:
                            break
                        if late.status_code == 503:
                            break
                        # answered before the signal was handled: it must be recorded too
                        accepted_late += late.status_code == 200
                        await anyio.sleep(0.02)
        assert statuses == [200] * IN_FLIGHT
        # uvicorn re-raises the signal after a graceful shutdown, so -SIGTERM is a clean exit
        assert gateway.process.wait(30) in {0, -signal.SIGTERM}
    finally:
        gateway.stop()
    token = hashlib.sha256(key.encode()).hexdigest()
    databases = [p for p in home.rglob("*.db")]
    assert databases
    found = 0
    for path in databases:
        with sqlite3.connect(path) as db:
            tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
            if "spend_logs" in tables:
                found += db.execute(
                    "select count(*) from spend_logs where api_key = ? and status = 'success'",
                    (token,),
                ).fetchone()[0]
    assert found == IN_FLIGHT + accepted_late
