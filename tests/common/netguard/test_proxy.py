"""The guarded forward proxy the browser uses: tunnels and plain requests, refused or passed."""

from __future__ import annotations

import anyio
import pytest
from anyio.abc import SocketStream

from common.netguard import AddressPolicy, Guard, guarded_proxy
from tests.common.netguard.address_forms import REFUSED_HOSTS
from tests.mcp_servers.site import Site


async def exchange(proxy_url: str, request: bytes) -> tuple[SocketStream, bytes]:
    host, port = proxy_url.removeprefix("http://").split(":")
    stream = await anyio.connect_tcp(host, int(port))
    await stream.send(request)
    data = b""
    with anyio.fail_after(10):
        while b"\r\n\r\n" not in data:
            data += await stream.receive()
    return stream, data


async def read_to_end(stream: SocketStream, data: bytes) -> bytes:
    with anyio.fail_after(10):
        try:
            while True:
                data += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return data


@pytest.mark.anyio
async def test_plain_request_to_refused_address(site: Site) -> None:
    async with guarded_proxy(Guard(AddressPolicy())) as proxy:
        target = f"http://127.0.0.1:{site.port}/secret/proxy-plain"
        stream, head = await exchange(proxy, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await stream.aclose()
    assert head.startswith(b"HTTP/1.1 403")
    assert b"X-Netguard-Refused: refused: 127.0.0.1 is a loopback address" in head
    assert not site.was_hit("/secret/proxy-plain")


@pytest.mark.anyio
@pytest.mark.parametrize("target", [*(row.host for row in REFUSED_HOSTS), "localhost"])
async def test_tunnel_to_refused_address(site: Site, target: str) -> None:
    async with guarded_proxy(Guard(AddressPolicy())) as proxy:
        stream, head = await exchange(
            proxy, f"CONNECT {target}:{site.port} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
        )
        await stream.aclose()
    assert head.startswith(b"HTTP/1.1 403")
    assert b"X-Netguard-Refused: refused" in head


@pytest.mark.anyio
async def test_allowed_plain_request_and_tunnel(site: Site) -> None:
    policy = AddressPolicy.from_allow_hosts(["127.0.0.1"])
    async with guarded_proxy(Guard(policy)) as proxy:
        target = f"http://127.0.0.1:{site.port}/text.txt"
        request = (
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Connection: keep-alive\r\n\r\n"
        )
        stream, head = await exchange(proxy, request.encode())
        plain = await read_to_end(stream, head)
        await stream.aclose()

        connect = f"CONNECT 127.0.0.1:{site.port} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        tunnel, established = await exchange(proxy, connect.encode())
        assert established.startswith(b"HTTP/1.1 200")
        await tunnel.send(
            b"GET /data.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        tunnelled = await read_to_end(tunnel, b"")
        await tunnel.aclose()
    assert plain.startswith(b"HTTP/1.1 200")
    assert plain.endswith(b"plain text body\nsecond line")
    assert tunnelled.startswith(b"HTTP/1.1 200")
    assert b'"name":"toolrelay"' in tunnelled


@pytest.mark.anyio
async def test_malformed_request_is_400() -> None:
    async with guarded_proxy(Guard(AddressPolicy())) as proxy:
        stream, head = await exchange(proxy, b"NONSENSE\r\n\r\n")
        await stream.aclose()
    assert head.startswith(b"HTTP/1.1 400")
