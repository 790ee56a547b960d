"""The six minio_* tools. Every failure becomes a ToolError (isError) in `tool_errors`.

No `from __future__ import annotations` here: the tool signatures' annotations carry
settings-dependent descriptions, which the SDK must be able to evaluate.
"""

import base64
import binascii
import mimetypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from mcp_servers.storage._settings import BUCKET_NAME, MAX_PRESIGN_SECONDS
from mcp_servers.storage._store import Download, ObjectStore, StorageError

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/yaml",
    "application/javascript",
)

ObjectName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        description="Object key inside the bucket, e.g. 'reports/q1.csv'.",
    ),
]

Bucket = Annotated[
    str,
    Field(
        min_length=3,
        max_length=63,
        pattern=BUCKET_NAME.pattern,
        description="Bucket name; omit it to use the server's default bucket.",
    ),
]


@contextmanager
def tool_errors() -> Iterator[None]:
    """The one place where storage errors become MCP tool errors."""
    try:
        yield
    except StorageError as exc:
        raise ToolError(str(exc)) from exc


def _looks_textual(content_type: str | None, data: bytes) -> str | None:
    """The data as text when it is UTF-8 and not declared binary; None otherwise."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared and not declared.startswith(TEXT_TYPES) and declared != "application/octet-stream":
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a multi-byte character cut by the size cap
            return data[: exc.start].decode("utf-8")
        return None
    return None if "\x00" in text else text


def one_line(fn: Callable[..., Any]) -> str:
    """A tool description from a docstring, without the source's line breaks."""
    return " ".join((fn.__doc__ or "").split())


def _human(size: int | None) -> str:
    return "?" if size is None else f"{size} B"


def register_tools(server: MCPServer[Any], store: ObjectStore) -> None:
    settings = store.settings
    default = settings.bucket

    def validate_bucket(bucket: str) -> str:
        with tool_errors():
            store.check_bucket(bucket)
        return bucket

    async def minio_list_buckets() -> str:
        """List the buckets this server may use, with creation dates."""
        with tool_errors():
            buckets = await store.list_buckets()
        if not buckets:
            return "no buckets"
        return "\n".join(
            f"{name}{' (default)' if name == default else ''}"
            + (f"  created {created.isoformat()}" if created else "")
            for name, created in buckets
        )

    async def minio_list_objects(
        bucket: Bucket = default,
        prefix: Annotated[
            str, Field(max_length=1024, description="Only keys starting with this.")
        ] = "",
        recursive: Annotated[
            bool,
            Field(
                description="List every key under the prefix (true) or one 'folder' level (false)."
            ),
        ] = True,
        max_keys: Annotated[
            int, Field(ge=1, le=1000, description="Return at most this many objects.")
        ] = 100,
    ) -> str:
        """List objects in a bucket: key, size in bytes, last modified time."""
        validate_bucket(bucket)
        with tool_errors():
            objects, more = await store.list_objects(bucket, prefix, recursive, max_keys)
        if not objects:
            return f"no objects in s3://{bucket}/{prefix}"
        lines = ["| key | size | last_modified |", "|---|---|---|"]
        for obj in objects:
            if obj.is_dir:
                lines.append(f"| {obj.name} | (folder) | |")
            else:
                modified = obj.last_modified.isoformat() if obj.last_modified else ""
                lines.append(f"| {obj.name} | {obj.size} | {modified} |")
        lines.append(
            f"{len(objects)} objects shown; more exist (raise max_keys or narrow the prefix)"
            if more
            else f"{len(objects)} objects"
        )
        return "\n".join(lines)

    async def minio_upload_object(
        object_name: ObjectName,
        content: Annotated[
            str,
            Field(description="The object's content: text, or base64 when encoding is 'base64'."),
        ],
        bucket: Bucket = default,
        encoding: Annotated[
            Literal["text", "base64"],
            Field(description="'text' (UTF-8) or 'base64' for binary data."),
        ] = "text",
        content_type: Annotated[
            str | None,
            Field(
                max_length=255,
                description="MIME type; guessed from the key's extension when omitted.",
            ),
        ] = None,
    ) -> str:
        """Upload (create or overwrite) an object from text or base64 content."""
        validate_bucket(bucket)
        if encoding == "base64":
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ToolError(f"content is not valid base64: {exc}") from exc
            fallback = "application/octet-stream"
        else:
            data = content.encode("utf-8")
            fallback = "text/plain; charset=utf-8"
        kind = content_type or mimetypes.guess_type(object_name)[0] or fallback
        with tool_errors():
            etag = await store.upload(bucket, object_name, data, kind)
        return f"uploaded s3://{bucket}/{object_name} ({len(data)} bytes, {kind}, etag {etag})"

    async def minio_download_object(
        object_name: ObjectName,
        bucket: Bucket = default,
        max_bytes: Annotated[
            int | None,
            Field(ge=1, description="Read at most this many bytes (capped by the server)."),
        ] = None,
    ) -> str:
        """Download an object. Text comes back as text; binary data as base64. Large objects are
        cut at the download cap (text) or refused (binary): use minio_get_url for those."""
        validate_bucket(bucket)
        cap = min(max_bytes or settings.max_download_bytes, settings.max_download_bytes)
        with tool_errors():
            download = await store.download(bucket, object_name, cap)
        return _render_download(bucket, download, cap)

    async def minio_delete_object(object_name: ObjectName, bucket: Bucket = default) -> str:
        """Delete one object. Fails if it does not exist."""
        validate_bucket(bucket)
        with tool_errors():
            await store.delete(bucket, object_name)
        return f"deleted s3://{bucket}/{object_name}"

    async def minio_get_url(
        object_name: ObjectName,
        bucket: Bucket = default,
        expires_seconds: Annotated[
            int | None,
            Field(
                ge=1,
                le=MAX_PRESIGN_SECONDS,
                description=f"Link lifetime in seconds (default {settings.presign_expiry}, max 7 days).",
            ),
        ] = None,
    ) -> str:
        """A presigned HTTP GET link to an object that anyone holding it can download until it expires."""
        validate_bucket(bucket)
        expires = expires_seconds or settings.presign_expiry
        with tool_errors():
            url = await store.presigned_get(bucket, object_name, expires)
        return f"{url}\n(valid for {expires} seconds)"

    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)
    for fn in (minio_list_buckets, minio_list_objects, minio_download_object, minio_get_url):
        server.add_tool(
            fn, description=one_line(fn), annotations=read_only, structured_output=False
        )
    note = " This server is READ-ONLY: the call will be refused." if settings.read_only else ""
    server.add_tool(
        minio_upload_object,
        description=one_line(minio_upload_object) + note,
        annotations=writes,
        structured_output=False,
    )
    server.add_tool(
        minio_delete_object,
        description=one_line(minio_delete_object) + note,
        annotations=writes,
        structured_output=False,
    )


def _render_download(bucket: str, download: Download, cap: int) -> str:
    info = download.info
    head = f"s3://{bucket}/{info.name} ({_human(info.size)}, {info.content_type or 'unknown type'})"
    text = _looks_textual(info.content_type, download.data)
    if text is not None:
        note = (
            f"\n[truncated: first {len(download.data)} of {info.size} bytes; use minio_get_url for all]"
            if download.truncated
            else ""
        )
        return f"{head}\n{text}{note}"
    if download.truncated:
        raise ToolError(
            f"{head} is binary and larger than the {cap}-byte download cap; use minio_get_url instead"
        )
    return f"{head}, base64:\n{base64.b64encode(download.data).decode('ascii')}"
