"""The MCP client pool against real servers on loopback: both transports, list_changed,
a server that is down at startup, timeouts and the circuit breaker."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Literal

import anyio
import pytest
import uvicorn

from middleware.config_sections import McpServerEntry
from middleware.mcp_pool import (
    CircuitOpen,
    McpPool,
    PoolSettings,
    ServerUnavailable,
    ToolTimeout,
)
from tests.middleware.mcp_test_server import build_app
from tests.support.processes import free_port

SETTINGS = PoolSettings(
    tool_timeout=10,
    tools_list_ttl=300,
    concurrency=4,
    initial_backoff=0.05,
    max_backoff=0.2,
    breaker_threshold=2,
    breaker_cooldown=60,
)


@contextmanager
def _serve(port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    # Clients may hold streams open; don't let them hold up the shutdown.
    config = uvicorn.Config(
        build_app(), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with _serve() as url:
        yield url


@asynccontextmanager
async def _pool(
    entries: dict[str, McpServerEntry], settings: PoolSettings = SETTINGS
) -> AsyncIterator[McpPool]:
    pool = McpPool(entries, settings)
    async with pool.running():
        yield pool


async def _until(predicate: Callable[[], bool]) -> None:
    with anyio.fail_after(15.0):
        # The pool has no change event to wait on; poll its state within the bound.
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.02)


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_both_transports_list_and_call(
    server_url: str, transport: Literal["http", "sse"]
) -> None:
    path = "/sse" if transport == "sse" else "/mcp"
    async with _pool({"t": McpServerEntry(url=f"{server_url}{path}", transport=transport)}) as pool:
        connection = pool.connections["t"]
        await _until(lambda: connection.health == "healthy")
        assert {"echo", "barrier", "picture"} <= {tool.name for tool in pool.tools()["t"]}
        result = await pool.call("t", "echo", {"text": "hi"})
        assert result.content[0].text == "echo: hi"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_list_changed_refreshes_the_tool_list(server_url: str) -> None:
    async with _pool({"t": McpServerEntry(url=f"{server_url}/mcp")}) as pool:
        connection = pool.connections["t"]
        await _until(lambda: connection.health == "healthy")
        await pool.call("t", "grow", {"name": "brand_new"})
        await _until(lambda: "brand_new" in {tool.name for tool in connection.tools})


@pytest.mark.anyio
async def test_allowed_and_disallowed_tools_filter_the_list(server_url: str) -> None:
    entry = McpServerEntry(
        url=f"{server_url}/mcp", allowed_tools=["echo", "fail"], disallowed_tools=["fail"]
    )
    async with _pool({"t": entry}) as pool:
        await _until(lambda: pool.connections["t"].health == "healthy")
        assert [tool.name for tool in pool.tools()["t"]] == ["echo"]


@pytest.mark.anyio
async def test_down_server_does_not_block_startup_and_is_retried() -> None:
    port = free_port()
    async with _pool({"late": McpServerEntry(url=f"http://127.0.0.1:{port}/mcp")}) as pool:
        connection = pool.connections["late"]
        await _until(lambda: connection.health == "unhealthy")
        assert connection.last_error
        with pytest.raises(ServerUnavailable):
            await pool.call("late", "echo", {"text": "x"})
        with _serve(port):
            await _until(lambda: connection.health == "healthy")
            result = await pool.call("late", "echo", {"text": "back"})
            assert result.content[0].text == "echo: back"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_timeouts_open_the_circuit(server_url: str) -> None:
    entry = McpServerEntry(url=f"{server_url}/mcp", timeout=0.2)
    async with _pool({"t": entry}) as pool:
        connection = pool.connections["t"]
        await _until(lambda: connection.health == "healthy")
        for _ in range(2):
            with pytest.raises(ToolTimeout):
                await pool.call("t", "slow", {"seconds": 5})
        with pytest.raises(CircuitOpen):
            await pool.call("t", "echo", {"text": "x"})
        assert connection.status()["circuit"] == "open"


@pytest.mark.anyio
async def test_per_server_concurrency_cap_queues_calls(server_url: str) -> None:
    # With one call at a time, two barrier calls cannot meet: both end in a timeout.
    entry = McpServerEntry.model_validate(
        {"url": f"{server_url}/mcp", "timeout": 0.5, "max_concurrency": 1}
    )
    settings = PoolSettings(**{**SETTINGS.__dict__, "breaker_threshold": 10})
    async with _pool({"t": entry}, settings) as pool:
        await _until(lambda: pool.connections["t"].health == "healthy")
        outcomes: list[str] = []

        async def call(party: str) -> None:
            try:
                await pool.call("t", "barrier", {"group": "capped", "party": party})
                outcomes.append("met")
            except ToolTimeout:
                outcomes.append("timeout")

        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "a")
            tg.start_soon(call, "b")
        assert outcomes == ["timeout", "timeout"]


@pytest.mark.anyio
async def test_a_restarted_server_is_noticed_before_any_call_fails() -> None:
    port = free_port()
    settings = PoolSettings(**{**SETTINGS.__dict__, "ping_interval": 0.1})
    async with _pool({"t": McpServerEntry(url=f"http://127.0.0.1:{port}/mcp")}, settings) as pool:
        connection = pool.connections["t"]
        with _serve(port):
            await _until(lambda: connection.health == "healthy")
        await _until(lambda: connection.health == "unhealthy")
        with _serve(port):
            await _until(lambda: connection.health == "healthy")
            result = await pool.call("t", "echo", {"text": "fresh session"})
            assert result.content[0].text == "echo: fresh session"  # type: ignore[union-attr]
