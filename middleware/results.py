"""Shaping an MCP tool result for the model and for the REST API.

Text stays text. Images, audio and binary resources go to the artifact store and are
replaced by their URL. Text over the size limit is cut, with a note and a URL to all of it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

import mcp_types
import orjson
import structlog

from middleware.artifacts import ArtifactStore

logger = structlog.get_logger("middleware.results")


@dataclass
class ShapedResult:
    text: str
    is_error: bool = False
    content: list[dict[str, object]] = field(default_factory=list)  # for the REST API
    structured: object = None  # the tool's `structuredContent`, as it sent it
    outcome: str = "ok"


STORE_FAILED = "not stored"


async def _store(store: ArtifactStore, data: bytes, content_type: str) -> str | None:
    url, _ = await _store_or_reason(store, data, content_type)
    return url


async def _store_or_reason(
    store: ArtifactStore, data: bytes, content_type: str
) -> tuple[str | None, str]:
    """The URL, or None and why not (for the model: it must tell the user)."""
    try:
        return await store.put(data, content_type), ""
    except Exception as exc:  # boundary: storage trouble must not lose the tool result
        reason = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("artifact store failed", error=reason, content_type=content_type)
        return None, reason


async def _binary(
    store: ArtifactStore, kind: str, b64: str, mime: str
) -> tuple[str, dict[str, object]]:
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return f"[{kind}: invalid base64 data]", {
            "type": kind,
            "mimeType": mime,
            "error": "invalid data",
        }
    url, reason = await _store_or_reason(store, data, mime)
    if url is None:
        text = (
            f"[{kind} ({mime}, {len(data)} bytes): could not be stored, the object storage "
            f"is unavailable ({reason}); no URL to it exists]"
        )
        return text, {"type": kind, "mimeType": mime, "error": STORE_FAILED}
    return f"[{kind} ({mime}, {len(data)} bytes): {url}]", {
        "type": kind,
        "mimeType": mime,
        "url": url,
        "size": len(data),
    }


async def _block(
    store: ArtifactStore, block: mcp_types.ContentBlock
) -> tuple[str, dict[str, object]]:
    if isinstance(block, mcp_types.TextContent):
        return block.text, {"type": "text", "text": block.text}
    if isinstance(block, mcp_types.ImageContent):
        return await _binary(store, "image", block.data, block.mime_type)
    if isinstance(block, mcp_types.AudioContent):
        return await _binary(store, "audio", block.data, block.mime_type)
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, mcp_types.TextResourceContents):
            return resource.text, {"type": "text", "text": resource.text, "uri": str(resource.uri)}
        if isinstance(resource, mcp_types.BlobResourceContents):
            mime = resource.mime_type or "application/octet-stream"
            text, item = await _binary(store, "resource", resource.blob, mime)
            item["uri"] = str(resource.uri)
            return text, item
    dumped = block.model_dump(mode="json", by_alias=True, exclude_none=True)
    return orjson.dumps(dumped).decode(), dumped


async def shape_result(
    result: mcp_types.CallToolResult, store: ArtifactStore, max_chars: int
) -> ShapedResult:
    texts: list[str] = []
    content: list[dict[str, object]] = []
    for block in result.content:
        text, item = await _block(store, block)
        texts.append(text)
        content.append(item)
    text = "\n".join(texts)
    if not text and result.structured_content is not None:
        text = orjson.dumps(result.structured_content).decode()
    text = await limit_text(text, store, max_chars)
    if result.is_error:
        text = f"Tool error: {text}" if text else "Tool error (no details)."
    elif any(item.get("error") == STORE_FAILED for item in content):
        # The tool worked, but what it made is lost: the model must not claim otherwise.
        return ShapedResult(
            f"Tool error (storage): {text}", True, content, result.structured_content, "storage"
        )
    return ShapedResult(text, result.is_error, content, result.structured_content)


async def limit_text(text: str, store: ArtifactStore, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    url = await _store(store, text.encode(), "text/plain; charset=utf-8")
    where = f"Full result: {url}" if url else "The full result could not be stored."
    return (
        f"{text[:max_chars]}\n\n[Result truncated: showing {max_chars} of {len(text)} "
        f"characters. {where}]"
    )
