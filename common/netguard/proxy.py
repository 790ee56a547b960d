"""A forward HTTP proxy on loopback that connects only to checked addresses.

The browser sends all its traffic here (Playwright's `proxy=` option, loopback included).
Each CONNECT tunnel and each plain-HTTP request resolves its host once through the `Guard`
and connects to that very address, so redirects, subresources and DNS rebinding are all
held to the same rules as fetch. Refusals answer 403 with header `X-Netguard-Refused`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio
import structlog
from anyio.abc import SocketAttribute, SocketStream, TaskGroup

from common.netguard.errors import NetguardError
from common.netguard.guard import Guard

logger = structlog.get_logger(__name__)

MAX_HEAD_BYTES = 64 * 1024
CONNECT_TIMEOUT = 10.0
REFUSED_HEADER = "X-Netguard-Refused"
# Hop-by-hop headers a proxy must not forward.
_HOP_HEADERS = {b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive"}


class ProxyRequestError(Exception):
    """The client sent something this proxy does not serve."""


@asynccontextmanager
async def guarded_proxy(guard: Guard) -> AsyncIterator[str]:
    """Run the proxy for the duration of the block; yield its `http://127.0.0.1:PORT` URL."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, _Handler(guard).handle, tg)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            tg.cancel_scope.cancel()


class _Handler:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    async def handle(self, client: SocketStream) -> None:
        async with client:
            try:
                head, rest = await _read_head(client)
                await self._serve(client, head, rest)
            except ProxyRequestError as exc:
                await _reply(client, 400, str(exc))
            except (
                anyio.EndOfStream,
                anyio.BrokenResourceError,
                anyio.ClosedResourceError,
                OSError,
            ):
                return

    async def _serve(self, client: SocketStream, head: bytes, rest: bytes) -> None:
        request_line, _, header_block = head.partition(b"\r\n")
        try:
            method, target, version = request_line.decode("latin-1").split(" ")
        except ValueError:
            raise ProxyRequestError("malformed request line") from None
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            if not host or not port_text.isdigit():
                raise ProxyRequestError(f"bad CONNECT target {target!r}")
            upstream = await self._open(
                client, host.strip("[]"), int(port_text), f"https://{target}/"
            )
            if upstream is None:
                return
            await client.send(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await _pipe(client, upstream, rest)
            return
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            raise ProxyRequestError(f"only absolute http:// targets are proxied, not {target!r}")
        upstream = await self._open(client, parts.hostname, parts.port or 80, target)
        if upstream is None:
            return
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        headers = [
            line
            for line in header_block.split(b"\r\n")
            if line and line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS
        ]
        # One request per upstream connection keeps the byte pipe free of HTTP framing.
        head_out = b"\r\n".join(
            [f"{method} {path} {version}".encode("latin-1"), *headers, b"Connection: close"]
        )
        await _pipe(client, upstream, head_out + b"\r\n\r\n" + rest)

    async def _open(
        self, client: SocketStream, host: str, port: int, url: str
    ) -> SocketStream | None:
        try:
            target = await self.guard.check_url(url)
        except NetguardError as exc:
            logger.info("proxy refused", url=url, reason=str(exc))
            await _reply(client, 403, str(exc), refused=True)
            return None
        try:
            with anyio.fail_after(CONNECT_TIMEOUT):
                return await anyio.connect_tcp(str(target.ip), port)
        except (OSError, TimeoutError) as exc:
            await _reply(client, 502, f"cannot connect to {host}:{port}: {exc}")
            return None


async def _read_head(client: SocketStream) -> tuple[bytes, bytes]:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD_BYTES:
            raise ProxyRequestError("request head too large")
        buffer += await client.receive()
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return head, rest


async def _reply(client: SocketStream, status: int, message: str, *, refused: bool = False) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = message.encode()
    extra = (
        f"{REFUSED_HEADER}: {message.replace(chr(13), ' ').replace(chr(10), ' ')}\r\n"
        if refused
        else ""
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    )
    try:
        await client.send(head.encode("latin-1", "replace") + body)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        return


async def _pipe(client: SocketStream, upstream: SocketStream, first: bytes) -> None:
    """Send `first` upstream, then copy both ways until either side closes."""
    async with upstream, anyio.create_task_group() as tg:
        if first:
            await upstream.send(first)

        async def copy(source: SocketStream, sink: SocketStream, group: TaskGroup) -> None:
            try:
                while True:
                    await sink.send(await source.receive())
            except (
                anyio.EndOfStream,
                anyio.BrokenResourceError,
                anyio.ClosedResourceError,
                OSError,
            ):
                pass
            group.cancel_scope.cancel()

        tg.start_soon(copy, client, upstream, tg)
        tg.start_soon(copy, upstream, client, tg)
