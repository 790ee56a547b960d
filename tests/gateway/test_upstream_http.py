"""The upstream client against real loopback servers: stale keep-alive connections, errors."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from gateway.upstream_http import build_upstream_client

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


async def _answer_once_then_drop(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answers the first request on a connection; closes it, unanswered, on the second: what
    a client sees when the server timed the idle connection out just as it was reused."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(RESPONSE)
    await writer.drain()
    # IncompleteReadError: the client closed this connection first, at the end of the test
    with contextlib.suppress(asyncio.IncompleteReadError):
        await reader.readuntil(b"\r\n\r\n")
    writer.close()


def _client() -> httpx.AsyncClient:
    return build_upstream_client(
        max_connections=10, keepalive_expiry=60, timeout=httpx.Timeout(5.0)
    )


@pytest.mark.anyio
async def test_request_on_a_connection_the_server_dropped_is_retried() -> None:
    # POST: aiohttp already retries idempotent methods on a dead pooled connection itself
    server = await asyncio.start_server(_answer_once_then_drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = _client()
    try:
        async with server:
            first = await client.post(f"http://127.0.0.1:{port}/", content=b"{}")
            second = await client.post(f"http://127.0.0.1:{port}/", content=b"{}")
    finally:
        await client.aclose()
    assert (first.status_code, first.json()) == (200, {})
    assert (second.status_code, second.json()) == (200, {})


@pytest.mark.anyio
async def test_refused_connection_is_a_connect_error() -> None:
    server = await asyncio.start_server(_answer_once_then_drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = _client()
    try:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")
    finally:
        await client.aclose()
