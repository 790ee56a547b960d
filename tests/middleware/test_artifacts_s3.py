"""S3 artifacts against a real SeaweedFS (it checks SigV4, Host header included): links
signed for `storage.public_endpoint` download through a proxy on another host:port."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pydantic import ValidationError

from middleware.artifacts.s3 import S3ArtifactStore
from middleware.config_sections import StorageSettings
from tests.middleware.mcp_test_server import tiny_png
from tests.support.forwarder import tcp_forwarder
from tests.support.seaweedfs import SeaweedS3, seaweedfs

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as running:
        yield running


def _storage(s3: SeaweedS3, public_endpoint: str | None = None) -> StorageSettings:
    return StorageSettings(
        backend="s3",
        endpoint=s3.url,
        bucket="artifacts-public",
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        public_endpoint=public_endpoint,
    )


def _s3_port(s3: SeaweedS3) -> int:
    return int(s3.endpoint.rsplit(":", 1)[1])


async def test_links_name_the_public_endpoint_and_download_through_it(s3: SeaweedS3) -> None:
    png = tiny_png()
    async with tcp_forwarder("127.0.0.1", _s3_port(s3)) as proxy:
        store = S3ArtifactStore(_storage(s3, public_endpoint=proxy.origin))
        url = await store.put(png, "image/png")
        assert url.startswith(f"{proxy.origin}/artifacts-public/")
        async with httpx.AsyncClient() as browser:
            response = await browser.get(url)
        assert response.status_code == 200, response.text
        assert response.content == png
        assert response.headers["content-type"] == "image/png"
        assert proxy.connections >= 1


async def test_a_link_signed_for_the_internal_host_is_refused_through_the_proxy(
    s3: SeaweedS3,
) -> None:
    """Why the setting exists: SigV4 signs the Host header, so swapping the host of a link
    signed for `endpoint` does not work, even through a faithful proxy."""
    async with tcp_forwarder("127.0.0.1", _s3_port(s3)) as proxy:
        store = S3ArtifactStore(_storage(s3))
        url = await store.put(b"internal", "text/plain")
        assert url.startswith(f"{s3.url}/artifacts-public/")
        swapped = urlunsplit(urlsplit(url)._replace(netloc=f"127.0.0.1:{proxy.port}"))
        async with httpx.AsyncClient() as browser:
            assert (await browser.get(url)).status_code == 200
            refused = await browser.get(swapped)
        assert refused.status_code == 403
        assert "SignatureDoesNotMatch" in refused.text


def test_the_public_endpoint_is_an_origin() -> None:
    for bad in ("seaweedfs:8333", "ftp://s3.example", "https://example.com/s3"):
        with pytest.raises(ValidationError, match="expected http"):
            StorageSettings(backend="s3", endpoint="http://x:1", public_endpoint=bad)
    ok = StorageSettings(backend="s3", endpoint="x:1", public_endpoint="https://s3.example")
    assert ok.public_endpoint == "https://s3.example"
