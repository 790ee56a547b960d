"""Every way of reaching a refused address through fetch_url is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.common.netguard.address_forms import REFUSED_HOSTS, AddressForm, form_id
from tests.mcp_servers.conftest import mcp_server_process
from tests.mcp_servers.fetch.test_fetch import MAX_BYTES, fetch, text_of
from tests.mcp_servers.site import Site
from tests.mcp_servers.support import Transport
from tests.support.processes import ServiceProcess

# Spellings of the test site's own loopback address (plus other refused ranges).
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "2130706433",
    "0177.0.0.1",
    "0x7f.1",
    "127.1",
    "0.0.0.0",
]


@pytest.fixture(scope="module")
def fetch_default(service_log_dir: Path) -> Iterator[ServiceProcess]:
    """A fetch server with no allowlist: nothing private is reachable."""
    with mcp_server_process("fetch", {"timeout": 2}, service_log_dir) as service:
        yield service


@pytest.fixture(scope="module")
def fetch_allowing_site(service_log_dir: Path) -> Iterator[ServiceProcess]:
    """A fetch server that may reach 127.0.0.1 exactly, and nothing else private."""
    settings = {"allow_hosts": ["127.0.0.1"], "max_bytes": MAX_BYTES, "timeout": 2}
    with mcp_server_process("fetch", settings, service_log_dir) as service:
        yield service


@pytest.mark.anyio
@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_loopback_refused_by_default(
    fetch_default: ServiceProcess, site: Site, transport: Transport, host: str
) -> None:
    path = f"/secret/default-{transport}-{host.strip('[]').replace(':', '_')}"
    result = await fetch(fetch_default, transport, url=f"http://{host}:{site.port}{path}")
    assert result.is_error
    assert "refused" in text_of(result)
    assert not site.was_hit(path)


@pytest.mark.anyio
@pytest.mark.parametrize("row", REFUSED_HOSTS, ids=form_id)
async def test_private_ranges_refused(fetch_default: ServiceProcess, row: AddressForm) -> None:
    result = await fetch(fetch_default, "streamable-http", url=f"http://{row.host}/")
    assert result.is_error
    assert "refused" in text_of(result)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1/"]
)
async def test_other_schemes_refused(fetch_default: ServiceProcess, url: str) -> None:
    result = await fetch(fetch_default, "streamable-http", url=url)
    assert result.is_error
    assert "only http and https" in text_of(result)


@pytest.mark.anyio
async def test_allowlist_opens_the_site(fetch_allowing_site: ServiceProcess, site: Site) -> None:
    result = await fetch(fetch_allowing_site, "streamable-http", url=f"{site.url}/text.txt")
    assert not result.is_error, text_of(result)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "target",
    ["http://[::ffff:127.0.0.1]:{port}/secret/r-mapped", "http://0.0.0.0:{port}/secret/r-zero",
     "http://[::1]:{port}/secret/r-v6", "http://169.254.169.254/latest/meta-data/"],
)  # fmt: skip
async def test_redirect_to_refused_address_refused(
    fetch_allowing_site: ServiceProcess, site: Site, transport: Transport, target: str
) -> None:
    location = target.format(port=site.port)
    result = await fetch(fetch_allowing_site, transport, url=f"{site.url}/redirect?to={location}")
    assert result.is_error
    assert "refused" in text_of(result)
    assert not site.was_hit("/secret/r-")


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/large.txt", "/large-stream.txt"])
async def test_oversized_response_refused(
    fetch_allowing_site: ServiceProcess, site: Site, transport: Transport, path: str
) -> None:
    result = await fetch(fetch_allowing_site, transport, url=f"{site.url}{path}")
    assert result.is_error
    assert f"{MAX_BYTES}-byte limit" in text_of(result)
