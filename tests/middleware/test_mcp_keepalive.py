"""Keepalive under the current MCP protocol, against the real fetch server, and a breaker
that counts only transport failures and survives a cancelled trial call."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn

from middleware.config_sections import McpServerEntry
from middleware.mcp_pool import (
    CircuitOpen,
    McpPool,
    PoolSettings,
    ProtocolFailure,
    ServerUnavailable,
    ToolTimeout,
)
from middleware.mcp_pool.breaker import CircuitBreaker
from tests.middleware.faulty_mcp_proxy import build_proxy
from tests.middleware.test_mcp_pool import SETTINGS, _serve
from tests.support.processes import ServiceProcess, free_port, start_service

INTERVAL = 0.3


def _start_fetch(log_dir: Path, port: int) -> ServiceProcess:
    return start_service(
        "fetch-mcp",
        ["-m", "mcp_servers.cli", "fetch", "--port", str(port)],
        port=port,
        log_dir=log_dir,
        health_path="/healthz",
    )


@asynccontextmanager
async def _pool(
    entries: dict[str, McpServerEntry], settings: PoolSettings
) -> AsyncIterator[McpPool]:
    pool = McpPool(entries, settings)
    async with pool.running():
        yield pool


async def _until(predicate: Callable[[], bool], bound: float = 20.0) -> None:
    with anyio.fail_after(bound):
        while not predicate():  # noqa: ASYNC110 - the pool's state has no event to wait on
            await anyio.sleep(0.02)


@pytest.mark.anyio
async def test_idle_next_to_the_fetch_server_stays_connected_then_notices_kill_and_restart(
    service_log_dir: Path,
) -> None:
    port = free_port()
    settings = PoolSettings(**{**SETTINGS.__dict__, "ping_interval": INTERVAL})
    fetch = _start_fetch(service_log_dir, port)
    try:
        entry = McpServerEntry(url=f"{fetch.url}/mcp")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with _pool({"fetch": entry}, settings) as pool:
                connection = pool.connections["fetch"]
                await _until(lambda: connection.health == "healthy")
                # Three keepalive intervals answered, on the first and only connection.
                await _until(lambda: connection.probes >= 3)
                assert connection.connects == 1
                assert connection.health == "healthy"

                fetch.stop()
                await _until(lambda: connection.health == "unhealthy")
                assert connection.last_error

                fetch = _start_fetch(service_log_dir, port)
                await _until(lambda: connection.health == "healthy")
                assert connection.connects == 2
                result = await pool.call("fetch", "fetch_url", {"url": "http://127.0.0.1:1/"})
                assert result.content  # refused or failed, but answered by the new session
        assert not [w for w in caught if "ping" in str(w.message).lower()]
        assert not [w for w in caught if w.category.__name__ == "MCPDeprecationWarning"]
    finally:
        fetch.stop()


@contextmanager
def _faulty_server() -> Iterator[str]:
    """The test MCP server behind the faulty proxy, both real HTTP on loopback."""
    with _serve() as real, _serve_app(build_proxy(real)) as proxy:
        yield f"{proxy}/mcp"


@contextmanager
def _serve_app(app: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
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


@pytest.mark.anyio
async def test_tool_level_errors_do_not_open_the_breaker() -> None:
    with _faulty_server() as url:
        async with _pool({"t": McpServerEntry(url=url)}, SETTINGS) as pool:
            connection = pool.connections["t"]
            await _until(lambda: connection.health == "healthy")
            for _ in range(SETTINGS.breaker_threshold * 3):
                # A JSON-RPC error the server chose, and error results: the server answered.
                with pytest.raises(ProtocolFailure, match="-32602"):
                    await pool.call("t", "garbage", {"kind": "bad_arguments"})
                refused = await pool.call("t", "echo", {"wrong": "arguments"})
                assert refused.is_error
                unknown = await pool.call("t", "no_such_tool", {})
                assert unknown.is_error
            assert connection.status()["circuit"] == "closed"
            assert connection.connects == 1
            result = await pool.call("t", "echo", {"text": "still here"})
            assert result.content[0].text == "echo: still here"  # type: ignore[union-attr]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["html_502", "invalid_jsonrpc", "truncated_sse"])
async def test_garbage_answers_are_tool_failures_and_count_against_the_server(kind: str) -> None:
    with _faulty_server() as url:
        async with _pool({"t": McpServerEntry(url=url)}, SETTINGS) as pool:
            connection = pool.connections["t"]
            await _until(lambda: connection.health == "healthy")
            for _ in range(SETTINGS.breaker_threshold):
                with pytest.raises(ServerUnavailable, match="no usable answer"):
                    await pool.call("t", "garbage", {"kind": kind})
            with pytest.raises(CircuitOpen):
                await pool.call("t", "echo", {"text": "x"})


@pytest.mark.anyio
async def test_a_hung_server_is_a_tool_timeout() -> None:
    with _faulty_server() as url:
        async with _pool({"t": McpServerEntry(url=url, timeout=0.3)}, SETTINGS) as pool:
            connection = pool.connections["t"]
            await _until(lambda: connection.health == "healthy")
            with pytest.raises(ToolTimeout, match=r"timed out after 0\.3s"):
                await pool.call("t", "garbage", {"kind": "hang"})
            result = await pool.call("t", "echo", {"text": "next"})
            assert result.content[0].text == "echo: next"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_cancelled_trial_call_hands_the_trial_back() -> None:
    settings = PoolSettings(**{**SETTINGS.__dict__, "breaker_cooldown": 0.2})
    with _serve() as url:
        entry = McpServerEntry(url=f"{url}/mcp", timeout=0.2)
        async with _pool({"t": entry}, settings) as pool:
            connection = pool.connections["t"]
            await _until(lambda: connection.health == "healthy")
            for _ in range(settings.breaker_threshold):
                with pytest.raises(ToolTimeout):
                    await pool.call("t", "slow", {"seconds": 5})
            with pytest.raises(CircuitOpen):
                await pool.call("t", "echo", {"text": "x"})
            await _until(lambda: connection.breaker.state == "half_open")

            started = anyio.Event()

            async def trial() -> None:
                started.set()
                await pool.call("t", "slow", {"seconds": 5})

            async with anyio.create_task_group() as tg:
                tg.start_soon(trial)
                await started.wait()
                # The trial is admitted and running; the client goes away.
                await _until(lambda: connection.breaker._trial_in_flight)
                tg.cancel_scope.cancel()

            result = await pool.call("t", "echo", {"text": "recovered"})
            assert result.content[0].text == "echo: recovered"  # type: ignore[union-attr]
            assert connection.breaker.state == "closed"


def test_breaker_abandon_frees_the_half_open_trial() -> None:
    breaker = CircuitBreaker(threshold=1, cooldown=0.0)
    breaker.record_failure()
    assert breaker.state == "half_open"
    assert breaker.allow() is True
    assert breaker.allow() is False  # one trial at a time
    breaker.abandon()
    assert breaker.allow() is True
    breaker.record_success()
    assert breaker.state == "closed"
