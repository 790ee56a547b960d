"""S3 object storage MCP server (the minio SDK against MinIO, SeaweedFS, AWS, ...).

Settings (`mcp_server_settings.storage`, else the top-level `storage:` section):
`endpoint`, `access_key`, `secret_key`, `secure`, `region`, `public_endpoint` (where
presigned links point, if not at `endpoint`), `bucket` (default
`mcp-storage`, created if missing), `allowed_buckets`, `read_only`, `presign_expiry`
(default 24h, at most 7 days), `max_download_bytes`, `max_upload_bytes`, `timeout_s`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

from mcp_servers._http import build_http_app
from mcp_servers.storage._settings import StorageSettings, parse_settings
from mcp_servers.storage._store import ObjectStore
from mcp_servers.storage._tools import register_tools

__all__ = [
    "DEFAULT_PORT",
    "ObjectStore",
    "StorageSettings",
    "build_app",
    "build_server",
    "parse_settings",
]

DEFAULT_PORT = 8113


def build_server(store: ObjectStore) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(
        "storage",
        instructions=(
            f"S3 object storage. The default bucket is {store.settings.bucket}. Use minio_get_url "
            "to share an object as a link."
        ),
    )
    register_tools(server, store)
    return server


def build_app(settings: Mapping[str, Any]) -> Starlette:
    store = ObjectStore(parse_settings(settings))

    async def health() -> dict[str, Any]:
        buckets = await store.list_buckets()
        return {"storage": "ok", "buckets": len(buckets)}

    return build_http_app(
        build_server(store),
        auth_token=settings.get("auth_token"),
        health=health,
        allowed_hosts=store.settings.allowed_hosts,
    )
