"""`post_bytes`, the providers' direct path, against real loopback servers: it must put the
same request on the wire as httpx's `post`, read the same body, and raise the same errors."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable

import httpx
import pytest

from gateway.providers.transport import Upstream
from gateway.upstream_http import UpstreamClient, build_upstream_client, post_bytes, stream_post

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _client() -> httpx.AsyncClient:
    return build_upstream_client(
        max_connections=10, keepalive_expiry=60, timeout=httpx.Timeout(5.0)
    )


async def _read_request(reader: asyncio.StreamReader) -> tuple[list[bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")[:-2]
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in lines
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return lines, await reader.readexactly(length)


def _answering(response: bytes, seen: list[tuple[list[bytes], bytes]]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                seen.append(await _read_request(reader))
                writer.write(response)
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed its kept-alive connection
            writer.close()

    return handle


def _header_set(lines: list[bytes]) -> set[tuple[str, str]]:
    """Header lines as (lowercased name, value): HTTP names are case-insensitive."""
    pairs = (line.decode().split(":", 1) for line in lines[1:])
    return {(name.strip().lower(), value.strip()) for name, value in pairs}


@pytest.mark.anyio
async def test_direct_post_sends_what_httpx_sends() -> None:
    seen: list[tuple[list[bytes], bytes]] = []
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    server = await asyncio.start_server(_answering(answer, seen), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/chat/completions"
    headers = {"content-type": "application/json", "Authorization": "Bearer sk-up", "x-a": "1"}
    client = _client()
    assert isinstance(client, UpstreamClient)
    try:
        async with server:
            via_httpx = await client.post(url, content=b'{"a":1}', headers=headers, timeout=5.0)
            direct = await post_bytes(client, url, b'{"a":1}', headers, 5.0)
    finally:
        await client.aclose()
    (httpx_head, httpx_body), (direct_head, direct_body) = seen
    assert direct_head[0] == httpx_head[0] == b"POST /v1/chat/completions HTTP/1.1"
    assert _header_set(direct_head) == _header_set(httpx_head)
    assert direct_body == httpx_body == b'{"a":1}'
    assert (direct.status_code, direct.content) == (via_httpx.status_code, via_httpx.content)
    assert direct.headers["CONTENT-TYPE"] == "application/json"


@pytest.mark.anyio
async def test_direct_post_decodes_a_compressed_body_like_httpx() -> None:
    body = gzip.compress(b'{"ok":true}')
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    server = await asyncio.start_server(_answering(answer, []), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    client = _client()
    try:
        async with server:
            via_httpx = await client.post(url, content=b"{}", timeout=5.0)
            direct = await post_bytes(client, url, b"{}", {}, 5.0)
    finally:
        await client.aclose()
    assert direct.content == via_httpx.content == b'{"ok":true}'


@pytest.mark.anyio
async def test_direct_post_reads_an_error_status_and_its_headers() -> None:
    answer = (
        b'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 11\r\n\r\n{"error":1}'
    )
    server = await asyncio.start_server(_answering(answer, []), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    client = _client()
    try:
        async with server:
            reply = await post_bytes(client, url, b"{}", {}, 5.0)
    finally:
        await client.aclose()
    assert (reply.status_code, reply.content) == (429, b'{"error":1}')
    assert reply.headers.get("retry-after") == "7"


@pytest.mark.anyio
async def test_direct_post_to_a_closed_port_is_a_connect_error() -> None:
    server = await asyncio.start_server(_answering(b"", []), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = _client()
    try:
        with pytest.raises(httpx.ConnectError):
            await post_bytes(client, f"http://127.0.0.1:{port}/", b"{}", {}, 5.0)
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_direct_post_dropped_mid_exchange_is_a_protocol_error() -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    client = _client()
    try:
        async with server:
            with pytest.raises(httpx.RemoteProtocolError):
                await post_bytes(client, url, b"{}", {}, 5.0)
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_any_other_client_goes_through_httpx() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-a"] == "1"
        return httpx.Response(201, content=request.content, headers={"x-b": "2"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        reply = await post_bytes(client, "http://up/", b"ping", {"x-a": "1"}, 5.0)
    assert (reply.status_code, reply.content, reply.headers["X-B"]) == (201, b"ping", "2")


def _streaming(head: bytes, pieces: list[bytes]) -> Handler:
    """Answers every request with `head`, then `pieces` as separate chunked-encoding chunks."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await _read_request(reader)
                writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n")
                for piece in pieces:
                    writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    return handle


async def _lines_both_ways(head: bytes, pieces: list[bytes]) -> tuple[list[str], list[str]]:
    server = await asyncio.start_server(_streaming(head, pieces), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    client = _client()
    try:
        async with server:
            async with client.stream("POST", url, content=b"{}", timeout=5.0) as response:
                via_httpx = [line async for line in response.aiter_lines()]
            async with stream_post(client, url, b"{}", {}, 5.0) as stream:
                direct = [line async for line in stream.aiter_lines()]
    finally:
        await client.aclose()
    return via_httpx, direct


@pytest.mark.anyio
async def test_direct_stream_splits_lines_like_httpx() -> None:
    # a CRLF split across chunks, a character split across chunks, a lone CR, no final newline
    euro = "€".encode()
    pieces = [b"data: a\r", b"\ndata: b" + euro[:1], euro[1:] + b"\r\rdata: c\n\n", b"tail"]
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    via_httpx, direct = await _lines_both_ways(head, pieces)
    assert direct == via_httpx == ["data: a", "data: b€", "", "data: c", "", "tail"]


@pytest.mark.anyio
async def test_direct_stream_decodes_with_the_declared_charset() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=latin-1\r\n"
    via_httpx, direct = await _lines_both_ways(head, ["caf\u00e9\n".encode("latin-1")])
    assert direct == via_httpx == ["café"]


@pytest.mark.anyio
async def test_direct_stream_reads_an_error_status_whole() -> None:
    head = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\n"
    server = await asyncio.start_server(_streaming(head, [b'{"error":', b"1}"]), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    client = _client()
    try:
        async with server, stream_post(client, url, b"{}", {}, 5.0) as stream:
            status, retry, body = (
                stream.status_code,
                stream.headers.get("retry-after"),
                await stream.aread(),
            )
    finally:
        await client.aclose()
    assert (status, retry, body) == (503, "3", b'{"error":1}')


@pytest.mark.anyio
async def test_direct_stream_cut_mid_body_is_a_protocol_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ndata:\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(cut, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    client = _client()
    try:
        async with server, stream_post(client, url, b"{}", {}, 5.0) as stream:
            with pytest.raises(httpx.RemoteProtocolError):
                _ = [line async for line in stream.aiter_lines()]
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_a_provider_url_goes_on_the_wire_as_httpx_renders_it() -> None:
    seen: list[tuple[list[bytes], bytes]] = []
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    server = await asyncio.start_server(_answering(answer, seen), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    url = f"{base}/v1/models/a b|c:generate?key=x y&alt=sse"
    client = _client()
    try:
        async with server:
            await client.post(url, content=b"{}", timeout=5.0)
            await Upstream(client, "test").post_bytes(url, b"{}", {}, 5.0)
    finally:
        await client.aclose()
    (via_httpx, _), (direct, _) = seen
    assert direct[0] == via_httpx[0]
