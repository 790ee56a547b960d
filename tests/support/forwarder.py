"""A plain TCP forwarder on its own loopback port: a stand-in for a reverse proxy that
keeps the Host header the client sent (Traefik, an ingress), for public-endpoint tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class Forwarder:
    port: int
    connections: int = 0  # how many client connections came through

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@asynccontextmanager
async def tcp_forwarder(target_host: str, target_port: int) -> AsyncIterator[Forwarder]:
    """Forwards every connection on a new 127.0.0.1 port to `target_host:target_port`."""
    forwarder = Forwarder(port=0)

    async def handle(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        forwarder.connections += 1
        target_reader, target_writer = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(
            _pipe(client_reader, target_writer), _pipe(target_reader, client_writer)
        )

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    forwarder.port = server.sockets[0].getsockname()[1]
    async with server:
        yield forwarder
