"""Which module serves which MCP server name; `mcp_servers.cli` imports only what it starts."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

SERVERS: Final[dict[str, str]] = {
    "postgres": "mcp_servers.postgres",
    "fetch": "mcp_servers.fetch",
    "browser": "mcp_servers.browser",
    "storage": "mcp_servers.storage",
    "bridge": "mcp_servers.bridge",
}


class UnknownServerError(LookupError):
    """No MCP server is registered under that name."""


def module_path(name: str) -> str:
    try:
        return SERVERS[name]
    except KeyError:
        raise UnknownServerError(
            f"unknown MCP server {name!r}; choose one of: {', '.join(sorted(SERVERS))}"
        ) from None


def load(name: str) -> ModuleType:
    """Import the server package registered as `name`."""
    path = module_path(name)
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name != path:
            raise
        raise UnknownServerError(f"MCP server {name!r} is not available in this build") from None
