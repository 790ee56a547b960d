"""The bridge with real third-party stdio servers, over real HTTP (both transports)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mcp_servers.bridge import app_from_entry, build_app
from tests.mcp_servers.bridge.conftest import (
    alive,
    children,
    descendants,
    health,
    session_client,
    stdin_bytes_read,
    wait_gone,
)
from tests.mcp_servers.support import Transport, mcp_client, serve_in_thread

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def per_session_url(everything_argv: list[str]) -> Iterator[str]:
    with serve_in_thread(build_app({"command": everything_argv})) as url:
        yield url


@pytest.fixture(scope="module")
def shared_url(everything_argv: list[str]) -> Iterator[str]:
    with serve_in_thread(build_app({"command": everything_argv, "shared": True})) as url:
        yield url


def text_of(result: object) -> str:
    content = result.content  # type: ignore[attr-defined]
    return str(content[0].text)


async def wait_for_child(base_url: str, exclude: tuple[int, ...] = ()) -> int:
    with anyio.fail_after(30):
        while True:
            pids = [pid for pid in await children(base_url) if pid not in exclude]
            if pids:
                return pids[0]
            await anyio.sleep(0.05)


async def test_lists_and_calls_tools_of_server_everything(
    per_session_url: str, transport: Transport
) -> None:
    async with session_client(per_session_url, transport) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"echo", "get-sum"} <= names
        assert text_of(await client.call_tool("echo", {"message": "through the bridge"})) == (
            "Echo: through the bridge"
        )
        assert "3" in text_of(await client.call_tool("get-sum", {"a": 1, "b": 2}))
        bad = await client.call_tool("get-sum", {"a": "one"})
        assert bad.is_error
        prompts = (await client.list_prompts()).prompts
        assert prompts, "server-everything has prompts; the bridge forwards them"
        with pytest.raises(MCPError) as caught:  # the child's own error, passed on unchanged
            await client.get_prompt("no-such-prompt")
        assert "stdio server" not in str(caught.value)
        assert alive(await wait_for_child(per_session_url))


async def test_sessionless_2026_clients_work_too(
    per_session_url: str, transport: Transport
) -> None:
    async with mcp_client(per_session_url, transport) as client:
        assert text_of(await client.call_tool("echo", {"message": "modern"})) == "Echo: modern"


async def test_each_session_has_its_own_child_and_ending_it_stops_the_child(
    per_session_url: str, transport: Transport
) -> None:
    before = set(await children(per_session_url))
    async with session_client(per_session_url, transport) as first:
        await first.call_tool("echo", {"message": "1"})
        first_pid = await wait_for_child(per_session_url, tuple(before))
        async with session_client(per_session_url, transport) as second:
            await second.call_tool("echo", {"message": "2"})
            second_pid = await wait_for_child(per_session_url, (*before, first_pid))
            assert first_pid != second_pid
        await wait_gone([second_pid])
        assert alive(first_pid)
    await wait_gone([first_pid])
    assert first_pid not in await children(per_session_url)


async def test_shared_mode_uses_one_child(shared_url: str, transport: Transport) -> None:
    async with (
        session_client(shared_url, transport) as a,
        session_client(shared_url, transport) as b,
    ):
        await a.call_tool("echo", {"message": "a"})
        await b.call_tool("echo", {"message": "b"})
        assert len(await children(shared_url)) == 1
    assert (await health(shared_url))["mode"] == "shared"
    assert len(await children(shared_url)) == 1  # the shared child outlives sessions


async def test_child_killed_mid_request_is_an_mcp_error_and_the_bridge_recovers(
    per_session_url: str, transport: Transport
) -> None:
    others = tuple(await children(per_session_url))  # e.g. the shared child of 2026-era clients
    async with session_client(per_session_url, transport) as client:
        await client.call_tool("echo", {"message": "warm up"})
        pid = await wait_for_child(per_session_url, others)
        baseline = stdin_bytes_read(pid)
        failure: list[BaseException] = []

        async def long_call() -> None:
            try:
                result = await client.call_tool(
                    "trigger-long-running-operation", {"duration": 30, "steps": 3}
                )
                failure.append(AssertionError(f"no error: {result}"))
            except MCPError as exc:
                failure.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(long_call)
            with anyio.fail_after(20):  # the request has reached the child when it reads stdin
                while stdin_bytes_read(pid) == baseline:  # noqa: ASYNC110 - polling /proc
                    await anyio.sleep(0.02)
            os.kill(pid, signal.SIGKILL)
        assert len(failure) == 1
        assert isinstance(failure[0], MCPError), failure[0]
        assert "exited during tools/call" in str(failure[0])
        await wait_gone([pid])
        # The same session goes on with a fresh child...
        assert text_of(await client.call_tool("echo", {"message": "again"})) == "Echo: again"
        assert await wait_for_child(per_session_url, (*others, pid)) != pid
    # ...and so does the next session.
    async with session_client(per_session_url, transport) as client:
        assert text_of(await client.call_tool("echo", {"message": "next"})) == "Echo: next"


async def test_shared_child_killed_between_calls_is_restarted(shared_url: str) -> None:
    async with session_client(shared_url, "streamable-http") as client:
        await client.call_tool("echo", {"message": "x"})
        [pid] = await children(shared_url)
        os.kill(pid, signal.SIGKILL)
        await wait_gone([pid])
        with anyio.fail_after(10):  # until the bridge has noticed; a call before that fails once
            while await children(shared_url):  # noqa: ASYNC110 - polling /healthz
                await anyio.sleep(0.05)
        assert text_of(await client.call_tool("echo", {"message": "y"})) == "Echo: y"
        [new_pid] = await children(shared_url)
        assert new_pid != pid


async def test_a_command_that_cannot_start_is_an_mcp_error_not_a_crash(
    transport: Transport,
) -> None:
    app = build_app({"command": ["/nonexistent/mcp-server"], "start_timeout_s": 5})
    with serve_in_thread(app) as url:
        async with session_client(url, transport) as client:
            with pytest.raises(MCPError, match="cannot start the stdio server"):
                await client.list_tools()
            with pytest.raises(MCPError, match="cannot start the stdio server"):
                await client.call_tool("anything", {})
        assert (await health(url))["status"] == "ok"


async def test_app_from_config_entry_passes_env(everything_argv: list[str]) -> None:
    node, *args = everything_argv
    entry = {"command": node, "args": args, "env": {"TOOLRELAY_BRIDGE_TEST": "from-config"}}
    with serve_in_thread(app_from_entry(entry)) as url:
        async with session_client(url, "streamable-http") as client:
            result = await client.call_tool("get-env", {})
    assert "from-config" in text_of(result)


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    async def page(_: object) -> HTMLResponse:
        return HTMLResponse(
            "<html><body><h1>Loopback page</h1><p>served for the bridge</p></body></html>"
        )

    with serve_in_thread(Starlette(routes=[Route("/", page)])) as url:
        yield url


@pytest.fixture(scope="module")
def fetch_url(fetch_argv: list[str]) -> Iterator[str]:
    app = build_app({"command": [*fetch_argv, "--ignore-robots-txt", "--allow-private-ips"]})
    with serve_in_thread(app) as url:
        yield url


async def test_official_fetch_server_through_the_bridge(
    fetch_url: str, page_url: str, transport: Transport
) -> None:
    async with session_client(fetch_url, transport) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "fetch" in tools
        assert "url" in tools["fetch"].input_schema["properties"]
        bad = await client.call_tool("fetch", {})
        assert bad.is_error
        result = await client.call_tool("fetch", {"url": f"{page_url}/"})
        assert "Loopback page" in text_of(result), text_of(result)


async def test_a_child_that_never_answers_times_out_and_is_killed() -> None:
    app = build_app({"command": ["sleep", "300"], "start_timeout_s": 2})
    with serve_in_thread(app) as url:
        async with session_client(url, "streamable-http") as client:
            errors: list[MCPError] = []

            async def list_tools() -> None:
                try:
                    await client.list_tools()
                except MCPError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(list_tools)
                with anyio.fail_after(10):
                    while not (sleepers := _pids_of("sleep 300")):  # noqa: ASYNC110 - /proc
                        await anyio.sleep(0.02)
            assert len(errors) == 1
            assert "did not finish the MCP handshake within 2s" in str(errors[0])
            await wait_gone(sleepers)
            assert await children(url) == []


def _pids_of(cmdline: str) -> list[int]:
    """Live descendants of this process whose command line is `cmdline`."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if argv.replace(b"\0", b" ").strip() == cmdline.encode() and alive(pid):
            found.append(pid)
    return found
