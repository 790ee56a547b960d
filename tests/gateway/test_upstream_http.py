"""The upstream client against real loopback servers: stale keep-alive connections, errors."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from gateway.app import create_app
from gateway.config import config_from_mapping
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


async def _read_whole_request_then_drop(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[bytes]
) -> None:
    """Reads a whole request (headers and body), then closes without answering: an upstream
    that crashed mid-generation, or a proxy that cut the connection after forwarding."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    seen.append(head + await reader.readexactly(length))
    writer.close()


async def _count_requests_server(seen: list[bytes]) -> asyncio.Server:
    return await asyncio.start_server(
        lambda r, w: _read_whole_request_then_drop(r, w, seen), "127.0.0.1", 0
    )


@pytest.mark.anyio
async def test_post_the_upstream_read_then_dropped_is_not_sent_again() -> None:
    seen: list[bytes] = []
    server = await _count_requests_server(seen)
    port = server.sockets[0].getsockname()[1]
    client = _client()
    try:
        async with server:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(f"http://127.0.0.1:{port}/v1/chat/completions", content=b"{}")
    finally:
        await client.aclose()
    assert len(seen) == 1


@pytest.mark.anyio
async def test_post_on_a_reused_connection_the_server_dropped_is_not_resent() -> None:
    # the server answered the first request, then closed the kept-alive connection unanswered
    # when the second arrived: from here that looks exactly like a crash after reading it
    server = await asyncio.start_server(_answer_once_then_drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = _client()
    try:
        async with server:
            first = await client.post(f"http://127.0.0.1:{port}/", content=b"{}")
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(f"http://127.0.0.1:{port}/", content=b"{}")
    finally:
        await client.aclose()
    assert (first.status_code, first.json()) == (200, {})


@pytest.mark.anyio
@pytest.mark.parametrize(("num_retries", "expected_requests"), [(0, 1), (2, 3)])
async def test_gateway_sends_a_dropped_generation_again_only_when_retries_allow_it(
    num_retries: int, expected_requests: int
) -> None:
    seen: list[bytes] = []
    server = await _count_requests_server(seen)
    port = server.sockets[0].getsockname()[1]
    config = config_from_mapping(
        {
            "model_list": [
                {
                    "model_name": "m",
                    "litellm_params": {
                        "model": "openai/m",
                        "api_base": f"http://127.0.0.1:{port}/v1",
                        "api_key": "sk-up",
                    },
                }
            ],
            "router_settings": {"num_retries": num_retries},
        },
        environ={},
    )
    upstream = _client()
    app = create_app(config, http=upstream)
    try:
        async with (
            server,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c,
        ):
            response = await c.post(
                "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            )
    finally:
        await upstream.aclose()
    assert response.status_code in {502, 503}, response.text
    assert response.json()["error"]["message"]
    assert len(seen) == expected_requests


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
