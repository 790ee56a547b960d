"""fetch_url through a real fetch server process, over both transports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.types import CallToolResult, TextContent

from tests.mcp_servers.conftest import mcp_server_process
from tests.mcp_servers.site import PNG, Site
from tests.mcp_servers.support import Transport, mcp_client
from tests.support.processes import ServiceProcess

MAX_BYTES = 100_000


@pytest.fixture(scope="module")
def fetch_open(site: Site, service_log_dir: Path) -> Iterator[ServiceProcess]:
    """A fetch server allowed to reach the loopback test site (and nothing else private)."""
    settings = {
        "allow_hosts": ["127.0.0.1"],
        "max_bytes": MAX_BYTES,
        "timeout": 2,
        "max_redirects": 3,
        "respect_robots": True,
    }
    with mcp_server_process("fetch", settings, service_log_dir) as service:
        yield service


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    content = result.content[0]
    assert isinstance(content, TextContent)
    return content.text


async def fetch(
    service: ServiceProcess, transport: Transport, **arguments: object
) -> CallToolResult:
    async with mcp_client(service.url, transport) as client:
        return await client.call_tool("fetch_url", dict(arguments))


@pytest.mark.anyio
async def test_html_becomes_clean_markdown(
    fetch_open: ServiceProcess, site: Site, transport: Transport
) -> None:
    result = await fetch(fetch_open, transport, url=f"{site.url}/page.html")
    assert not result.is_error, text_of(result)
    text = text_of(result)
    assert "Title: Test Page" in text
    assert "# Hello *world*" in text
    assert "[link](/other)" in text
    assert "- alpha" in text
    for noise in ("SCRIPT-NOISE", "NAV-NOISE", "HEADER-NOISE", "FOOTER-NOISE", "color: red"):
        assert noise not in text


@pytest.mark.anyio
async def test_raw_returns_html_source(fetch_open: ServiceProcess, site: Site) -> None:
    text = text_of(
        await fetch(fetch_open, "streamable-http", url=f"{site.url}/page.html", raw=True)
    )
    assert "<nav>" in text
    assert "SCRIPT-NOISE" in text


@pytest.mark.anyio
async def test_json_is_pretty_printed(fetch_open: ServiceProcess, site: Site) -> None:
    text = text_of(await fetch(fetch_open, "sse", url=f"{site.url}/data.json"))
    assert '"name": "toolrelay"' in text
    assert '  "items": [' in text


@pytest.mark.anyio
async def test_plain_text_as_is(fetch_open: ServiceProcess, site: Site) -> None:
    text = text_of(await fetch(fetch_open, "streamable-http", url=f"{site.url}/text.txt"))
    assert text.endswith("plain text body\nsecond line")


@pytest.mark.anyio
async def test_binary_is_described_not_dumped(fetch_open: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_open, "streamable-http", url=f"{site.url}/image.png")
    assert not result.is_error
    text = text_of(result)
    assert f"binary content (image/png, {len(PNG)} bytes)" in text
    assert "PNG" not in text.replace("image/png", "")


@pytest.mark.anyio
async def test_long_page_comes_in_pages(fetch_open: ServiceProcess, site: Site) -> None:
    url = f"{site.url}/long.html"
    first = text_of(await fetch(fetch_open, "streamable-http", url=url, max_length=1000))
    assert "Paragraph 0000" in first
    assert "Call fetch_url with start_index=1000 to get more." in first
    second = text_of(await fetch(fetch_open, "sse", url=url, max_length=1000, start_index=1000))
    assert "Paragraph 0000" not in second
    assert "showing characters 1000-2000 of" in second
    past = await fetch(fetch_open, "streamable-http", url=url, start_index=10_000_000)
    assert past.is_error
    assert "past the end" in text_of(past)


@pytest.mark.anyio
async def test_redirect_followed(fetch_open: ServiceProcess, site: Site) -> None:
    text = text_of(await fetch(fetch_open, "streamable-http", url=f"{site.url}/redirect"))
    assert text.startswith(f"Contents of {site.url}/page.html")


@pytest.mark.anyio
async def test_redirect_loop_is_an_error(fetch_open: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_open, "streamable-http", url=f"{site.url}/loop")
    assert result.is_error
    assert "more than 3 redirects" in text_of(result)


@pytest.mark.anyio
async def test_http_error_status_is_a_tool_error(fetch_open: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_open, "sse", url=f"{site.url}/missing")
    assert result.is_error
    assert "HTTP 404" in text_of(result)


@pytest.mark.anyio
async def test_robots_txt_respected(fetch_open: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_open, "streamable-http", url=f"{site.url}/private/data")
    assert result.is_error
    assert "robots.txt" in text_of(result)
    assert not site.was_hit("/private/")


@pytest.mark.anyio
async def test_timeout_is_a_tool_error(fetch_open: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_open, "streamable-http", url=f"{site.url}/slow")
    assert result.is_error
    assert "timed out" in text_of(result)


@pytest.mark.anyio
async def test_bad_arguments_are_tool_errors(fetch_open: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_open, "streamable-http", url=f"{site.url}/page.html", max_length=0)
    assert result.is_error
