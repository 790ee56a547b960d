"""The fetch MCP server: `fetch_url` over streamable HTTP and SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from starlette.applications import Starlette

from common.netguard import AddressPolicy, Guard
from mcp_servers._http import build_http_app
from mcp_servers.fetch._errors import FetchError
from mcp_servers.fetch._fetcher import Fetcher
from mcp_servers.fetch._settings import FetchSettings
from mcp_servers.fetch._tool import fetch_url

INSTRUCTIONS = (
    "fetch_url downloads a public web page or file and returns it as text: HTML as markdown, "
    "JSON pretty-printed. Long content comes in pages; the note at the end says how to get more."
)


def build_server(settings: FetchSettings, guard: Guard) -> tuple[MCPServer[Any], Fetcher]:
    server: MCPServer[Any] = MCPServer("fetch", instructions=INSTRUCTIONS)
    fetcher = Fetcher(settings, guard)

    @server.tool(name="fetch_url")
    async def fetch_url_tool(
        url: Annotated[str, Field(description="http(s) URL to fetch")],
        max_length: Annotated[
            int, Field(description="Most characters to return", ge=1, le=1_000_000)
        ] = 5000,
        start_index: Annotated[
            int, Field(description="Character offset to start from, for the next page", ge=0)
        ] = 0,
        raw: Annotated[
            bool, Field(description="Return HTML/JSON as received instead of converted")
        ] = False,
    ) -> str:
        """Fetch a URL from the internet and return its content as text (HTML as markdown)."""
        try:
            return await fetch_url(fetcher, url, max_length, start_index, raw)
        except FetchError as exc:
            raise ToolError(str(exc)) from exc

    return server, fetcher


def build_fetch_app(settings: FetchSettings, guard: Guard | None = None) -> Starlette:
    guard = guard or Guard(AddressPolicy.from_allow_hosts(settings.allow_hosts))
    server, fetcher = build_server(settings, guard)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        try:
            yield
        finally:
            await fetcher.aclose()

    return build_http_app(
        server,
        auth_token=settings.auth_token,
        lifespan=lifespan,
        allowed_hosts=settings.allowed_hosts,
    )
