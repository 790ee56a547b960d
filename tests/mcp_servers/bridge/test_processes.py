"""No leaked processes: the bridge runs as its own process (the real CLI), and every child
and grandchild it started is gone after sessions end and after it shuts down."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.mcp_servers.bridge.conftest import (
    alive,
    children,
    descendants,
    session_client,
    wait_gone,
)
from tests.mcp_servers.support import mcp_client
from tests.support.processes import ServiceProcess, free_port, start_service

pytestmark = pytest.mark.anyio


@pytest.fixture
def bridge(everything_argv: list[str], service_log_dir: Path) -> Iterator[ServiceProcess]:
    # `sh -c "...; true"` keeps sh as the parent of node: the child has a grandchild.
    wrapped = ["sh", "-c", f"{shlex.join(everything_argv)}; true"]
    port = free_port()
    service = start_service(
        "bridge",
        ["-m", "mcp_servers.cli", "bridge", "--port", str(port), "--", *wrapped],
        port=port,
        log_dir=service_log_dir,
        health_path="/healthz",
    )
    try:
        yield service
    finally:
        service.stop()


async def child_tree(base_url: str, count: int) -> list[int]:
    """The bridge's `count` children and all their descendants, once they are all up."""
    with anyio.fail_after(30):
        while True:
            pids = await children(base_url)
            trees = {pid: descendants(pid) for pid in pids}
            if len(pids) == count and all(trees.values()):  # each sh has started node
                return [*pids, *(kid for kids in trees.values() for kid in kids)]
            await anyio.sleep(0.05)


async def test_sessions_and_shutdown_leave_no_processes(bridge: ServiceProcess) -> None:
    url = bridge.url
    async with session_client(url, "streamable-http") as ended:
        await ended.call_tool("echo", {"message": "x"})
        ended_tree = await child_tree(url, 1)
    assert len(ended_tree) >= 2  # sh and node
    await wait_gone(ended_tree)  # DELETE ended the session

    async with session_client(url, "sse") as disconnected:
        await disconnected.call_tool("echo", {"message": "y"})
        disconnected_tree = await child_tree(url, 1)
    await wait_gone(disconnected_tree)  # the SSE stream closed

    # Open sessions of both kinds plus the shared child of a 2026-era client, then shut down.
    async with (
        session_client(url, "streamable-http") as a,
        session_client(url, "sse") as b,
        mcp_client(url, "streamable-http") as c,
    ):
        for client in (a, b, c):
            await client.call_tool("echo", {"message": "z"})
        open_tree = await child_tree(url, 3)
        assert all(alive(pid) for pid in open_tree)
        bridge.stop()
        assert bridge.process.returncode is not None
    await wait_gone(open_tree)
    log = bridge.log()
    assert "stdio server session ended with an error" not in log
    assert log.count("stdio server stopped") == log.count("stdio server started") == 5
