"""The browser is held to the same address rules as fetch: navigation, redirects, subresources."""

from __future__ import annotations

import pytest

from tests.mcp_servers.browser.test_browser import local, ok, text_of
from tests.mcp_servers.site import LEAKY_TARGETS, Site
from tests.mcp_servers.support import Transport, mcp_client
from tests.support.processes import ServiceProcess

REFUSED_HOSTS = [
    "127.0.0.1",
    "2130706433",
    "0177.0.0.1",
    "0x7f.1",
    "127.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",
    "localtest.localhost",
]


@pytest.mark.anyio
@pytest.mark.parametrize("host", REFUSED_HOSTS)
async def test_navigation_to_refused_address(
    browser_server: ServiceProcess, site: Site, transport: Transport, host: str
) -> None:
    path = f"/secret/nav-{transport}-{host.strip('[]').replace(':', '_')}"
    async with mcp_client(browser_server.url, transport) as client:
        result = await client.call_tool(
            "browser_navigate", {"url": f"http://{host}:{site.port}{path}"}
        )
    assert result.is_error
    assert "refused" in text_of(result)
    assert not site.was_hit(path)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "chrome://settings", "http://169.254.169.254/latest/meta-data/"]
)
async def test_navigation_to_other_schemes_and_metadata(
    browser_server: ServiceProcess, url: str
) -> None:
    async with mcp_client(browser_server.url, "streamable-http") as client:
        result = await client.call_tool("browser_navigate", {"url": url})
    assert result.is_error


@pytest.mark.anyio
@pytest.mark.parametrize(
    "target", ["127.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "2130706433", "0.0.0.0"]
)
async def test_redirect_to_refused_address(
    browser_server: ServiceProcess, site: Site, transport: Transport, target: str
) -> None:
    label = f"/secret/redirect-{transport}-{target.strip('[]').replace(':', '_')}"
    location = f"http://{target}:{site.port}{label}"
    async with mcp_client(browser_server.url, transport) as client:
        result = await client.call_tool(
            "browser_navigate", {"url": local(site, f"/redirect?to={location}")}
        )
    assert result.is_error
    assert "refused" in text_of(result)
    assert site.was_hit("/redirect")
    assert not site.was_hit(label)


@pytest.mark.anyio
async def test_allowed_page_cannot_load_loopback_subresources(
    browser_server: ServiceProcess, site: Site
) -> None:
    async with mcp_client(browser_server.url, "streamable-http") as client:
        ok(await client.call_tool("browser_navigate", {"url": local(site, "/leaky.html")}))
        # The page finished loading (its subrequests were answered or refused) before this.
        assert "leaky page" in ok(await client.call_tool("browser_extract", {}))
    assert site.was_hit("/leaky.html")
    for label, _host in LEAKY_TARGETS:
        assert not site.was_hit(f"/secret/{label}"), label
    assert not site.was_hit("/secret/fetch-js")
    assert not site.was_hit("/secret/frame")
