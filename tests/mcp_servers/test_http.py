"""The shared HTTP scaffold: both transports, /healthz, bearer auth, Host checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from mcp_servers._http import build_http_app
from tests.mcp_servers.support import Transport, mcp_client, serve_in_thread

TOKEN = "s3cret-token"


def _tiny_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("tiny")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server


class Resources:
    def __init__(self) -> None:
        self.entered = False
        self.exited = False
        self.healthy = True


@pytest.fixture(scope="module")
def resources() -> Resources:
    return Resources()


@pytest.fixture(scope="module")
def open_url(resources: Resources) -> Iterator[str]:
    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        resources.entered = True
        try:
            yield
        finally:
            resources.exited = True

    async def health() -> dict[str, Any]:
        if not resources.healthy:
            raise RuntimeError("database unreachable")
        return {"pool": "ready"}

    app = build_http_app(_tiny_server(), lifespan=lifespan, health=health)
    with serve_in_thread(app) as url:
        yield url
    assert resources.exited


@pytest.fixture(scope="module")
def auth_url() -> Iterator[str]:
    app = build_http_app(_tiny_server(), auth_token=TOKEN, allowed_hosts=["fetch"])
    with serve_in_thread(app) as url:
        yield url


@pytest.mark.anyio
async def test_tool_call_over_each_transport(open_url: str, transport: Transport) -> None:
    async with mcp_client(open_url, transport) as client:
        tools = await client.list_tools()
        assert [tool.name for tool in tools.tools] == ["add"]
        result = await client.call_tool("add", {"a": 2, "b": 40})
    assert not result.is_error
    assert result.structured_content == {"result": 42}


def test_the_sdk_span_middleware_is_dropped_and_the_rest_kept() -> None:
    server = _tiny_server()

    async def observer(ctx: Any, call_next: Any) -> Any:
        return await call_next(ctx)

    server.middleware.append(observer)
    assert any(isinstance(m, OpenTelemetryMiddleware) for m in server.middleware)

    build_http_app(server)

    # our ASGI span covers traced requests; the SDK's would run for every message
    assert not [m for m in server.middleware if isinstance(m, OpenTelemetryMiddleware)]
    assert observer in server.middleware


def test_lifespan_entered_and_health_reports(open_url: str, resources: Resources) -> None:
    assert resources.entered
    response = httpx.get(f"{open_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "server": "tiny", "pool": "ready"}


def test_health_failure_is_503(open_url: str, resources: Resources) -> None:
    resources.healthy = False
    try:
        response = httpx.get(f"{open_url}/healthz")
    finally:
        resources.healthy = True
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "database unreachable" in response.json()["error"]


def test_healthz_needs_no_token(auth_url: str) -> None:
    assert httpx.get(f"{auth_url}/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/mcp", "/sse", "/messages/?session_id=x"])
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_missing_or_wrong_token_is_401(auth_url: str, path: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.post(f"{auth_url}{path}", headers=headers, json={})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.anyio
async def test_client_without_token_is_refused(auth_url: str, transport: Transport) -> None:
    with pytest.raises((MCPError, httpx2.HTTPStatusError, ExceptionGroup)) as info:
        async with mcp_client(auth_url, transport) as client:
            await client.list_tools()
    errors = _leaves(info.value)
    assert errors
    for error in errors:
        if isinstance(error, httpx2.HTTPStatusError):
            assert error.response.status_code == 401
        else:
            assert isinstance(error, MCPError)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


@pytest.mark.anyio
async def test_client_with_token_is_served(auth_url: str, transport: Transport) -> None:
    async with mcp_client(auth_url, transport, token=TOKEN) as client:
        result = await client.call_tool("add", {"a": 1, "b": 1})
    assert result.structured_content == {"result": 2}


def _initialize(url: str, host: str) -> httpx.Response:
    return httpx.post(
        f"{url}/mcp",
        headers={
            "Host": host,
            "Authorization": f"Bearer {TOKEN}",
            "Accept": "application/json, text/event-stream",
        },
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
    )


def test_loopback_and_configured_hosts_accepted(auth_url: str) -> None:
    port = auth_url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "fetch:8111", "fetch"):
        assert _initialize(auth_url, host).status_code == 200, host


def test_foreign_host_refused(auth_url: str) -> None:
    assert _initialize(auth_url, "evil.example:80").status_code == 421
