"""All configured MCP servers: one supervised connection each, started together."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types

from middleware.config_sections import McpServerEntry
from middleware.mcp_pool.connection import PoolSettings, ServerConnection
from middleware.mcp_pool.errors import UnknownTool


class McpPool:
    def __init__(
        self,
        servers: Mapping[str, McpServerEntry],
        settings: PoolSettings,
        ssl_contexts: Mapping[str, ssl.SSLContext] | None = None,
    ) -> None:
        """`ssl_contexts`: each HTTP server's TLS context (`mcp_pool.tls.server_ssl_contexts`);
        a server without one gets httpx2's default verification."""
        contexts = ssl_contexts or {}
        self.connections = {
            name: ServerConnection(name, entry, settings, contexts.get(name))
            for name, entry in servers.items()
        }

    @asynccontextmanager
    async def running(self) -> AsyncIterator[McpPool]:
        async with anyio.create_task_group() as tg:
            for connection in self.connections.values():
                tg.start_soon(connection.run, name=f"mcp-{connection.name}")
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    def version(self) -> tuple[int, ...]:
        """Changes whenever any server's tool list changes."""
        return tuple(conn.tools_version for conn in self.connections.values())

    def tools(self) -> dict[str, list[mcp_types.Tool]]:
        """Each server's last known tools. A server that went down keeps its list, so a
        model mid-conversation gets "unavailable" for its calls rather than "unknown tool"."""
        return {name: list(conn.tools) for name, conn in self.connections.items()}

    async def call(
        self, server: str, tool: str, arguments: dict[str, object], user: str | None = None
    ) -> mcp_types.CallToolResult:
        """`user` selects the end user's own session on servers that keep one per user."""
        connection = self.connections.get(server)
        if connection is None:
            raise UnknownTool(f"no MCP server named '{server}'")
        return await connection.call(tool, arguments, user)

    def status(self) -> list[dict[str, Any]]:
        return [conn.status() for conn in self.connections.values()]
