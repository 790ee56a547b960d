"""One SeaweedFS for the storage tests, and in-process MCP clients for storage servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client

from mcp_servers.storage import ObjectStore, build_server, parse_settings
from tests.support.seaweedfs import SeaweedS3, seaweedfs


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as running:
        yield running


def s3_settings(s3: SeaweedS3, **overrides: Any) -> dict[str, Any]:
    return {
        "endpoint": s3.url,
        "access_key": s3.access_key,
        "secret_key": s3.secret_key,
        "region": s3.region,
        **overrides,
    }


@asynccontextmanager
async def storage_client(s3: SeaweedS3, **overrides: Any) -> AsyncIterator[Client]:
    store = ObjectStore(parse_settings(s3_settings(s3, **overrides)))
    async with Client(build_server(store)) as client:
        yield client


async def call(
    client: Client, name: str, arguments: dict[str, Any] | None = None
) -> tuple[bool, str]:
    result = await client.call_tool(name, arguments or {})
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    return bool(result.is_error), text
