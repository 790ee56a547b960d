"""The storage tools against a real SeaweedFS (which checks request signatures)."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest
from mcp import Client

from mcp_servers.storage import ObjectStore, build_app, build_server, parse_settings
from tests.mcp_servers.storage.conftest import call, s3_settings, storage_client
from tests.mcp_servers.support import Transport, mcp_client, serve_in_thread
from tests.support.forwarder import tcp_forwarder
from tests.support.processes import free_port
from tests.support.seaweedfs import SeaweedS3

pytestmark = pytest.mark.anyio

WEEK = 7 * 24 * 3600


def key() -> str:
    return f"tests/{uuid.uuid4().hex}.txt"


def presigned_url(text: str) -> str:
    return text.splitlines()[0]


async def test_round_trip_upload_list_download_delete(s3: SeaweedS3) -> None:
    name = key()
    async with storage_client(s3) as client:
        is_error, text = await call(
            client, "minio_upload_object", {"object_name": name, "content": "héllo\nworld"}
        )
        assert not is_error, text
        assert text.startswith(f"uploaded s3://mcp-storage/{name} (12 bytes, text/plain")

        is_error, text = await call(client, "minio_list_buckets")
        assert not is_error and "mcp-storage (default)" in text

        is_error, text = await call(client, "minio_list_objects", {"prefix": name})
        assert not is_error and f"| {name} | 12 |" in text and text.endswith("1 objects")

        is_error, text = await call(client, "minio_download_object", {"object_name": name})
        assert not is_error
        assert text.splitlines()[1:] == ["héllo", "world"]

        is_error, text = await call(client, "minio_delete_object", {"object_name": name})
        assert not is_error and text == f"deleted s3://mcp-storage/{name}"
        is_error, text = await call(client, "minio_download_object", {"object_name": name})
        assert is_error and "NoSuchKey" in text
        is_error, text = await call(client, "minio_delete_object", {"object_name": name})
        assert is_error and "NoSuchKey" in text


async def test_listing_one_folder_level(s3: SeaweedS3) -> None:
    top = f"tree-{uuid.uuid4().hex[:8]}"
    raw = s3.client()
    raw.make_bucket(top)
    for name in ("a.txt", "sub/b.txt", "sub/c.txt"):
        raw.put_object(top, name, io.BytesIO(b"x"), 1)
    async with storage_client(s3) as client:
        _, flat = await call(client, "minio_list_objects", {"bucket": top, "recursive": False})
        _, deep = await call(client, "minio_list_objects", {"bucket": top})
        _, capped = await call(client, "minio_list_objects", {"bucket": top, "max_keys": 2})
    assert "| a.txt | 1 |" in flat and "| sub/ | (folder) | |" in flat and "sub/b.txt" not in flat
    assert "| sub/b.txt | 1 |" in deep and deep.endswith("3 objects")
    assert capped.endswith("2 objects shown; more exist (raise max_keys or narrow the prefix)")


async def test_binary_base64_round_trip(s3: SeaweedS3) -> None:
    payload = bytes(range(256)) * 4
    name = f"tests/{uuid.uuid4().hex}.bin"
    async with storage_client(s3) as client:
        is_error, text = await call(
            client,
            "minio_upload_object",
            {
                "object_name": name,
                "content": base64.b64encode(payload).decode(),
                "encoding": "base64",
            },
        )
        assert not is_error and "application/octet-stream" in text
        is_error, text = await call(client, "minio_download_object", {"object_name": name})
        assert not is_error
        head, body = text.split("\n", 1)
        assert head.endswith("base64:")
        assert base64.b64decode(body) == payload
    assert s3.client().get_object("mcp-storage", name).read() == payload


async def test_invalid_base64_is_refused(s3: SeaweedS3) -> None:
    async with storage_client(s3) as client:
        is_error, text = await call(
            client,
            "minio_upload_object",
            {"object_name": key(), "content": "not base64!", "encoding": "base64"},
        )
    assert is_error and "not valid base64" in text


async def test_download_cap_cuts_text_and_refuses_big_binary(s3: SeaweedS3) -> None:
    text_key, bin_key = key(), f"tests/{uuid.uuid4().hex}.bin"
    client_s3 = s3.client()
    client_s3.put_object(
        "mcp-storage", text_key, io.BytesIO(b"a" * 100), 100, content_type="text/plain"
    )
    client_s3.put_object("mcp-storage", bin_key, io.BytesIO(b"\x00\xff" * 50), 100)
    async with storage_client(s3, max_download_bytes=10) as client:
        is_error, text = await call(client, "minio_download_object", {"object_name": text_key})
        assert not is_error
        assert text.splitlines()[1] == "a" * 10
        assert "[truncated: first 10 of 100 bytes; use minio_get_url for all]" in text
        is_error, text = await call(client, "minio_download_object", {"object_name": bin_key})
        assert is_error and "larger than the 10-byte download cap; use minio_get_url" in text


async def test_presigned_url_downloads_with_plain_http(s3: SeaweedS3) -> None:
    name = key()
    async with storage_client(s3) as client:
        await call(client, "minio_upload_object", {"object_name": name, "content": "shared"})
        is_error, text = await call(client, "minio_get_url", {"object_name": name})
    assert not is_error
    url = presigned_url(text)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["86400"]
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.text == "shared"


async def test_links_can_point_at_a_public_endpoint(s3: SeaweedS3) -> None:
    name = key()
    port = s3.endpoint.rsplit(":", 1)[1]
    async with storage_client(s3, public_endpoint=f"http://localhost:{port}") as client:
        await call(client, "minio_upload_object", {"object_name": name, "content": "public"})
        _, text = await call(client, "minio_get_url", {"object_name": name})
    url = presigned_url(text)
    assert url.startswith(f"http://localhost:{port}/mcp-storage/")
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.text == "public"


async def test_links_for_the_shared_public_endpoint_work_through_a_proxy(
    s3: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose and k8s set `storage.public_endpoint` (S3_PUBLIC_ENDPOINT) once, for the
    artifacts and this server: a link made here downloads through another host:port."""
    async with tcp_forwarder("127.0.0.1", int(s3.endpoint.rsplit(":", 1)[1])) as proxy:
        monkeypatch.setenv("TEST_S3_PUBLIC_ENDPOINT", proxy.origin)
        config = tmp_path / "config.yaml"
        config.write_text(
            "storage:\n"
            "  backend: s3\n"
            f"  endpoint: {s3.url}\n"
            f"  access_key: {s3.access_key}\n"
            f"  secret_key: {s3.secret_key}\n"
            "  public_endpoint: os.environ/TEST_S3_PUBLIC_ENDPOINT\n"
        )
        store = ObjectStore(parse_settings({"config_path": str(config)}))
        name = key()
        async with Client(build_server(store)) as client:
            await call(client, "minio_upload_object", {"object_name": name, "content": "proxied"})
            _, text = await call(client, "minio_get_url", {"object_name": name})
        url = presigned_url(text)
        assert url.startswith(f"{proxy.origin}/mcp-storage/")
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert response.status_code == 200 and response.text == "proxied"
        assert proxy.connections >= 1


async def test_tampered_presigned_urls_are_refused(s3: SeaweedS3) -> None:
    name, other = key(), key()
    async with storage_client(s3) as client:
        await call(client, "minio_upload_object", {"object_name": name, "content": "mine"})
        await call(client, "minio_upload_object", {"object_name": other, "content": "secret"})
        _, text = await call(client, "minio_get_url", {"object_name": name})
    url = presigned_url(text)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signature = query["X-Amz-Signature"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    bad_signature = url.replace(f"X-Amz-Signature={signature}", f"X-Amz-Signature={flipped}")
    other_key = urlunsplit(parts._replace(path=parts.path.replace(name, other)))
    longer = url.replace("X-Amz-Expires=86400", f"X-Amz-Expires={WEEK}")
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 200
        for tampered in (bad_signature, other_key, longer):
            response = await http.get(tampered)
            assert response.status_code == 403, tampered
            assert "secret" not in response.text


async def test_expiry_bounds(s3: SeaweedS3) -> None:
    name = key()
    async with storage_client(s3, presign_expiry="2h") as client:
        await call(client, "minio_upload_object", {"object_name": name, "content": "x"})
        _, text = await call(client, "minio_get_url", {"object_name": name})
        assert parse_qs(urlsplit(presigned_url(text)).query)["X-Amz-Expires"] == ["7200"]
        _, text = await call(
            client, "minio_get_url", {"object_name": name, "expires_seconds": WEEK}
        )
        assert parse_qs(urlsplit(presigned_url(text)).query)["X-Amz-Expires"] == [str(WEEK)]
        for bad in (0, WEEK + 1):
            is_error, _ = await call(
                client, "minio_get_url", {"object_name": name, "expires_seconds": bad}
            )
            assert is_error
        is_error, text = await call(client, "minio_get_url", {"object_name": "no/such/key"})
        assert is_error and "NoSuchKey" in text
    with pytest.raises(ValueError, match="presign_expiry"):
        parse_settings(s3_settings(s3, presign_expiry="8d"))
    with pytest.raises(ValueError, match="presign_expiry"):
        parse_settings(s3_settings(s3, presign_expiry="soon"))


async def test_read_only_mode_refuses_writes(s3: SeaweedS3) -> None:
    name = key()
    s3.client().put_object("mcp-storage", name, io.BytesIO(b"keep"), 4)
    async with storage_client(s3, read_only=True) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "READ-ONLY" in (tools["minio_upload_object"].description or "")
        is_error, text = await call(
            client, "minio_upload_object", {"object_name": name, "content": "changed"}
        )
        assert is_error and "read-only" in text
        is_error, text = await call(client, "minio_delete_object", {"object_name": name})
        assert is_error and "read-only" in text
        is_error, text = await call(client, "minio_download_object", {"object_name": name})
        assert not is_error and text.endswith("keep")
    assert s3.client().get_object("mcp-storage", name).read() == b"keep"


async def test_bucket_allowlist(s3: SeaweedS3) -> None:
    raw = s3.client()
    for bucket in ("allowed-extra", "forbidden-one"):
        if not raw.bucket_exists(bucket):
            raw.make_bucket(bucket)
    async with storage_client(s3, allowed_buckets=["allowed-extra"]) as client:
        _, text = await call(client, "minio_list_buckets")
        assert "allowed-extra" in text and "mcp-storage (default)" in text
        assert "forbidden-one" not in text
        is_error, text = await call(
            client,
            "minio_upload_object",
            {"object_name": "a.txt", "content": "x", "bucket": "allowed-extra"},
        )
        assert not is_error, text
        for tool, args in (
            ("minio_upload_object", {"object_name": "a.txt", "content": "x"}),
            ("minio_list_objects", {}),
            ("minio_download_object", {"object_name": "a.txt"}),
            ("minio_get_url", {"object_name": "a.txt"}),
            ("minio_delete_object", {"object_name": "a.txt"}),
        ):
            is_error, text = await call(client, tool, {**args, "bucket": "forbidden-one"})
            assert is_error and "bucket 'forbidden-one' is not allowed" in text, tool
        is_error, _ = await call(client, "minio_list_objects", {"bucket": "Bad_Name"})
        assert is_error
    assert list(raw.list_objects("forbidden-one")) == []


async def test_endpoint_down_is_a_tool_error() -> None:
    settings = {
        "endpoint": f"127.0.0.1:{free_port()}",
        "access_key": "a",
        "secret_key": "b",
        "timeout_s": 2,
    }
    async with Client(build_server(ObjectStore(parse_settings(settings)))) as client:
        is_error, text = await call(client, "minio_list_objects")
        assert is_error and "storage unavailable" in text
        is_error, text = await call(client, "minio_list_buckets")
        assert is_error and "storage unavailable" in text


def test_falls_back_to_the_top_level_storage_section(
    s3: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_S3_SECRET", s3.secret_key)
    config = tmp_path / "config.yaml"
    config.write_text(
        "storage:\n"
        "  backend: s3\n"
        f"  endpoint: {s3.url}\n"
        "  bucket: shared-artifacts\n"
        f"  access_key: {s3.access_key}\n"
        "  secret_key: os.environ/TEST_S3_SECRET\n"
        "  presign_expiry: 3600\n"
    )
    settings = parse_settings({"config_path": str(config)})
    assert (settings.endpoint, settings.secure, settings.bucket) == (
        s3.endpoint,
        False,
        "shared-artifacts",
    )
    assert settings.secret_key == s3.secret_key and settings.presign_expiry == 3600
    # The server's own section wins when it names an endpoint.
    own = parse_settings({"config_path": str(config), "endpoint": "https://s3.example:9000"})
    assert (own.endpoint, own.secure, own.bucket) == ("s3.example:9000", True, "mcp-storage")
    config.write_text("storage:\n  backend: local\n")
    with pytest.raises(ValueError, match="no S3 endpoint"):
        parse_settings({"config_path": str(config)})


@pytest.fixture(scope="module")
def base_url(s3: SeaweedS3) -> Iterator[str]:
    with serve_in_thread(build_app({**s3_settings(s3), "auth_token": "st-token"})) as url:
        yield url


async def test_tools_over_http(base_url: str, transport: Transport) -> None:
    name = key()
    async with mcp_client(base_url, transport, token="st-token") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {
            "minio_list_buckets",
            "minio_list_objects",
            "minio_upload_object",
            "minio_download_object",
            "minio_delete_object",
            "minio_get_url",
        }
        is_error, _ = await call(
            client, "minio_upload_object", {"object_name": name, "content": "over http"}
        )
        assert not is_error
        is_error, text = await call(client, "minio_download_object", {"object_name": name})
        assert not is_error and text.endswith("over http")
    async with httpx.AsyncClient() as http:
        health = (await http.get(f"{base_url}/healthz")).json()
    assert health["status"] == "ok" and health["storage"] == "ok"
