"""Browser tools through a real server process and Chromium, over both transports."""

from __future__ import annotations

import base64
import struct
import time
import zlib

import httpx
import pytest
from mcp.types import CallToolResult, ImageContent, TextContent

from tests.mcp_servers.site import Site
from tests.mcp_servers.support import Transport, mcp_client
from tests.support.processes import ServiceProcess


def local(site: Site, path: str) -> str:
    return f"http://localhost:{site.port}{path}"


def text_of(result: CallToolResult) -> str:
    content = result.content[0]
    assert isinstance(content, TextContent)
    return content.text


def ok(result: CallToolResult) -> str:
    assert not result.is_error, text_of(result)
    return text_of(result)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, size, seen_end = 8, (0, 0), False
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        seen_end = kind == b"IEND"
        offset += 12 + length
    assert seen_end
    return size


def health(server: ServiceProcess) -> dict[str, object]:
    body: dict[str, object] = httpx.get(f"{server.url}/healthz").json()
    return body


def wait_for_contexts(server: ServiceProcess, count: int, timeout: float = 15.0) -> None:
    """Poll the server's health report until it has `count` open contexts."""
    deadline = time.monotonic() + timeout
    while (contexts := health(server)["contexts"]) != count:
        assert time.monotonic() < deadline, f"{contexts} contexts open, expected {count}"
        time.sleep(0.05)


@pytest.mark.anyio
async def test_navigate_extract_screenshot(
    browser_server: ServiceProcess, site: Site, transport: Transport
) -> None:
    async with mcp_client(browser_server.url, transport) as client:
        navigated = ok(
            await client.call_tool("browser_navigate", {"url": local(site, "/page.html")})
        )
        assert "Title: 'Test Page'" in navigated
        text = ok(await client.call_tool("browser_extract", {}))
        assert "Hello world" in text
        assert "FOOTER-NOISE" in text  # visible page text, as rendered
        assert "SCRIPT-NOISE" not in text
        part = ok(await client.call_tool("browser_extract", {"selector": "li", "max_length": 3}))
        assert part.startswith("alp")
        assert "truncated at 3 of 5 characters" in part
        shot = await client.call_tool("browser_screenshot", {})
        assert not shot.is_error
        image = shot.content[0]
        assert isinstance(image, ImageContent)
        assert image.mime_type == "image/png"
        assert png_size(base64.b64decode(image.data)) == (1280, 800)
        element = await client.call_tool("browser_screenshot", {"selector": "h1"})
        element_image = element.content[0]
        assert isinstance(element_image, ImageContent)
        _width, height = png_size(base64.b64decode(element_image.data))
        assert 0 < height < 800


@pytest.mark.anyio
async def test_fill_and_click(
    browser_server: ServiceProcess, site: Site, transport: Transport
) -> None:
    async with mcp_client(browser_server.url, transport) as client:
        ok(await client.call_tool("browser_navigate", {"url": local(site, "/form.html")}))
        ok(await client.call_tool("browser_fill", {"selector": "#name", "value": "Ada"}))
        ok(await client.call_tool("browser_click", {"selector": "#go"}))
        assert ok(await client.call_tool("browser_extract", {"selector": "#out"})) == "Hello, Ada!"
        body = ok(await client.call_tool("browser_extract", {}))
        assert "INVISIBLE-TEXT" not in body


@pytest.mark.anyio
async def test_missing_element_is_a_tool_error(browser_server: ServiceProcess, site: Site) -> None:
    async with mcp_client(browser_server.url, "streamable-http") as client:
        ok(await client.call_tool("browser_navigate", {"url": local(site, "/form.html")}))
        missing = await client.call_tool("browser_click", {"selector": "#nope"})
        assert missing.is_error
        assert "#nope" in text_of(missing)
        extract = await client.call_tool("browser_extract", {"selector": ".nothing"})
        assert extract.is_error
        assert "no element matches" in text_of(extract)


@pytest.mark.anyio
async def test_sessions_are_isolated(
    browser_server: ServiceProcess, site: Site, transport: Transport
) -> None:
    async with (
        mcp_client(browser_server.url, transport) as first,
        mcp_client(browser_server.url, transport) as second,
    ):
        ok(await first.call_tool("browser_navigate", {"url": local(site, "/state.html?set=alpha")}))
        mine = ok(await first.call_tool("browser_extract", {"selector": "#state"}))
        assert mine == "cookie=[k=alpha] storage=[alpha]"
        ok(await second.call_tool("browser_navigate", {"url": local(site, "/state.html")}))
        theirs = ok(await second.call_tool("browser_extract", {"selector": "#state"}))
        assert theirs == "cookie=[] storage=[]"
        ok(await first.call_tool("browser_navigate", {"url": local(site, "/state.html")}))
        again = ok(await first.call_tool("browser_extract", {"selector": "#state"}))
        assert again == "cookie=[k=alpha] storage=[alpha]"


@pytest.mark.anyio
async def test_contexts_closed_when_sessions_end(
    browser_server: ServiceProcess, site: Site, transport: Transport
) -> None:
    wait_for_contexts(browser_server, 0)
    async with mcp_client(browser_server.url, transport) as client:
        ok(await client.call_tool("browser_navigate", {"url": local(site, "/page.html")}))
        assert health(browser_server)["contexts"] == 1
    wait_for_contexts(browser_server, 0)


@pytest.mark.anyio
async def test_context_cap_gives_a_clear_error(browser_server: ServiceProcess, site: Site) -> None:
    wait_for_contexts(browser_server, 0)
    async with (
        mcp_client(browser_server.url, "streamable-http") as one,
        mcp_client(browser_server.url, "sse") as two,
        mcp_client(browser_server.url, "streamable-http") as three,
        mcp_client(browser_server.url, "sse") as four,
    ):
        for client in (one, two, three):
            ok(await client.call_tool("browser_navigate", {"url": local(site, "/page.html")}))
        refused = await four.call_tool("browser_navigate", {"url": local(site, "/page.html")})
        assert refused.is_error
        assert "too many open browser sessions (limit 3)" in text_of(refused)
    wait_for_contexts(browser_server, 0)
