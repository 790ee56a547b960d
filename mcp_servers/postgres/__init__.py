"""PostgreSQL MCP server: catalog tools plus guarded `execute_sql` and `explain_query`.

Settings (`mcp_server_settings.postgres`): `dsn` (or $DATABASE_URL), `allow_writes`,
`statement_timeout_ms`, `max_rows`, `max_cell_chars`, `role`, pool sizes,
`connect_timeout_s`, `allowed_hosts`, `auth_token`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

from mcp_servers._http import build_http_app
from mcp_servers.postgres._db import Database
from mcp_servers.postgres._settings import PostgresSettings, parse_settings
from mcp_servers.postgres._tools import register_tools

__all__ = [
    "DEFAULT_PORT",
    "Database",
    "PostgresSettings",
    "build_app",
    "build_server",
    "parse_settings",
]

DEFAULT_PORT = 8110

INSTRUCTIONS = (
    "Explore a PostgreSQL database: list_schemas and list_tables to find tables, describe_table "
    "and get_table_constraints for their shape, then execute_sql for one statement at a time."
)


def build_server(db: Database) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("postgres", instructions=INSTRUCTIONS)
    register_tools(server, db)
    return server


def build_app(settings: Mapping[str, Any]) -> Starlette:
    """The HTTP app; the pool is created on first use and closed at shutdown."""
    db = Database(parse_settings(settings))

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        try:
            yield
        finally:
            await db.close()

    async def health() -> dict[str, Any]:
        await db.fetch("SELECT 1")
        return {"database": "ok"}

    return build_http_app(
        build_server(db),
        auth_token=settings.get("auth_token"),
        lifespan=lifespan,
        health=health,
        allowed_hosts=db.settings.allowed_hosts,
    )
