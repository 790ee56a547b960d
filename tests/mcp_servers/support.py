"""Helpers for the MCP server tests: serve an ASGI app on loopback, connect the real client."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Literal

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from starlette.types import ASGIApp

from tests.support.processes import free_port

Transport = Literal["streamable-http", "sse"]
TRANSPORTS: tuple[Transport, ...] = ("streamable-http", "sse")


@contextmanager
def serve_in_thread(app: ASGIApp, timeout: float = 20.0) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port in a thread; yield its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout)
            raise RuntimeError(f"test server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


@asynccontextmanager
async def mcp_client(
    base_url: str, transport: Transport, *, token: str | None = None
) -> AsyncIterator[Client]:
    """The official MCP client connected to `base_url` over `transport`."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if transport == "sse":
        async with Client(sse_client(f"{base_url}/sse", headers=headers)) as client:
            yield client
        return
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http)) as client,
    ):
        yield client
