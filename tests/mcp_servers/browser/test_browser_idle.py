"""A session's context is closed after the idle timeout even while the session stays open."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.mcp_servers.browser.conftest import CHROMIUM
from tests.mcp_servers.browser.test_browser import health, local, ok, wait_for_contexts
from tests.mcp_servers.conftest import mcp_server_process
from tests.mcp_servers.site import Site
from tests.mcp_servers.support import mcp_client
from tests.support.components import require_component


@pytest.mark.anyio
async def test_idle_context_closed_and_reopened(site: Site, service_log_dir: Path) -> None:
    require_component(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}")
    settings = {"allow_hosts": ["localhost"], "executable_path": CHROMIUM, "idle_timeout": 1}
    with mcp_server_process("browser", settings, service_log_dir) as server:
        async with mcp_client(server.url, "streamable-http") as client:
            ok(
                await client.call_tool(
                    "browser_navigate", {"url": local(site, "/state.html?set=a")}
                )
            )
            assert health(server)["contexts"] == 1
            wait_for_contexts(server, 0)
            # The session goes on with a fresh, empty context.
            ok(await client.call_tool("browser_navigate", {"url": local(site, "/state.html")}))
            fresh = ok(await client.call_tool("browser_extract", {"selector": "#state"}))
            assert fresh == "cookie=[] storage=[]"
