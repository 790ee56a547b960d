"""The MCP client pool: one supervised client per configured server."""

from middleware.mcp_pool.connection import PoolSettings, ServerConnection
from middleware.mcp_pool.errors import (
    CircuitOpen,
    ProtocolFailure,
    ServerUnavailable,
    SessionLimit,
    ToolCallFailure,
    ToolTimeout,
    UnknownTool,
)
from middleware.mcp_pool.pool import McpPool
from middleware.mcp_pool.tls import server_ssl_contexts

__all__ = [
    "CircuitOpen",
    "McpPool",
    "PoolSettings",
    "ProtocolFailure",
    "ServerConnection",
    "ServerUnavailable",
    "SessionLimit",
    "ToolCallFailure",
    "ToolTimeout",
    "UnknownTool",
    "server_ssl_contexts",
]
