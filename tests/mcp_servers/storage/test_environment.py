"""Twelve-factor settings: `toolrelay mcp storage` with nothing but S3_* (or the MinIO/AWS
spellings) in its environment serves a real SeaweedFS."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers.storage import parse_settings
from tests.mcp_servers.storage.conftest import call
from tests.mcp_servers.support import mcp_client
from tests.support.processes import free_port, start_service
from tests.support.seaweedfs import SeaweedS3

pytestmark = pytest.mark.anyio


async def test_storage_server_alone_reads_s3_variables(s3: SeaweedS3, tmp_path: Path) -> None:
    # No --config: the settings can only come from these variables.
    port = free_port()
    env = {
        "S3_ENDPOINT": s3.url,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "S3_BUCKET": "env-configured",
    }
    service = start_service(
        "mcp-storage",
        ["-m", "toolrelay", "mcp", "storage", "--port", str(port)],
        port=port,
        log_dir=tmp_path,
        health_path="/healthz",
        env=env,
    )
    try:
        async with mcp_client(service.url, "streamable-http") as client:
            is_error, text = await call(client, "minio_list_buckets")
        assert not is_error, text
        assert "env-configured (default)" in text
    finally:
        service.stop()


def test_minio_and_aws_spellings_are_read_in_order() -> None:
    environ = {
        "MINIO_ENDPOINT": "http://minio:9000",
        "AWS_ENDPOINT_URL": "https://ignored.example",
        "MINIO_ROOT_USER": "root",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "AWS_REGION": "eu-west-1",
    }
    settings = parse_settings({}, environ)
    assert (settings.endpoint, settings.secure) == ("minio:9000", False)
    assert (settings.access_key, settings.secret_key, settings.region) == (
        "root",
        "aws-secret",
        "eu-west-1",
    )


def test_a_configured_endpoint_is_never_mixed_with_environment_credentials() -> None:
    environ = {"S3_ENDPOINT": "http://env:9000", "S3_ACCESS_KEY": "env-key"}
    settings = parse_settings({"endpoint": "http://file:9000"}, environ)
    assert (settings.endpoint, settings.access_key) == ("file:9000", None)


def test_nothing_configured_names_the_variables() -> None:
    with pytest.raises(ValueError, match="set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY"):
        parse_settings({}, {})
