"""The browser MCP server (Playwright, Chromium).

Tools: browser_navigate, browser_screenshot (PNG image), browser_extract, browser_click,
browser_fill. Each MCP session gets its own isolated context; every request the browser
makes, redirects included, goes through the same address guard as fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette

from mcp_servers._config import parse_settings
from mcp_servers.browser._server import build_browser_app
from mcp_servers.browser._settings import BrowserSettings

DEFAULT_PORT = 8112

__all__ = ["DEFAULT_PORT", "BrowserSettings", "build_app"]


def build_app(settings: Mapping[str, Any]) -> Starlette:
    return build_browser_app(parse_settings(BrowserSettings, "browser", settings))
