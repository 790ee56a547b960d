"""The fetch MCP server: `fetch_url(url, max_length, start_index, raw)`.

HTML becomes markdown, long content is paged, and private/loopback/link-local addresses
are refused (including redirects and DNS answers) unless listed in `allow_hosts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette

from mcp_servers._config import parse_settings
from mcp_servers.fetch._server import build_fetch_app
from mcp_servers.fetch._settings import FetchSettings

DEFAULT_PORT = 8111

__all__ = ["DEFAULT_PORT", "FetchSettings", "build_app"]


def build_app(settings: Mapping[str, Any]) -> Starlette:
    return build_fetch_app(parse_settings(FetchSettings, "fetch", settings))
