from __future__ import annotations

import base64
from pathlib import Path

import mcp_types
import pytest

from middleware.artifacts import InvalidSignature, LocalArtifactStore
from middleware.results import shape_result
from tests.middleware.mcp_test_server import tiny_png


def _store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path, public_url="http://127.0.0.1:1", secret=b"s", expiry=60)


@pytest.mark.anyio
async def test_images_are_stored_and_replaced_by_a_signed_url(tmp_path: Path) -> None:
    store = _store(tmp_path)
    png = tiny_png()
    result = mcp_types.CallToolResult(
        content=[
            mcp_types.TextContent(text="shot:"),
            mcp_types.ImageContent(data=base64.b64encode(png).decode(), mime_type="image/png"),
        ]
    )
    shaped = await shape_result(result, store, max_chars=1000)
    url = shaped.content[1]["url"]
    assert shaped.text == f"shot:\n[image (image/png, {len(png)} bytes): {url}]"
    name = url.split("/files/")[1].split("?")[0]
    expires = url.split("expires=")[1].split("&")[0]
    sig = url.split("sig=")[1]
    assert store.verify(name, expires, sig).read_bytes() == png
    with pytest.raises(InvalidSignature):
        store.verify(name, expires, ("1" if sig[0] == "0" else "0") + sig[1:])
    with pytest.raises(InvalidSignature):
        store.verify("../" + name, expires, sig)


@pytest.mark.anyio
async def test_long_text_is_cut_with_a_note_and_errors_are_marked(tmp_path: Path) -> None:
    result = mcp_types.CallToolResult(
        content=[mcp_types.TextContent(text="x" * 500)], is_error=True
    )
    shaped = await shape_result(result, _store(tmp_path), max_chars=100)
    assert shaped.is_error
    assert shaped.text.startswith(
        "Tool error: " + "x" * 100 + "\n\n[Result truncated: showing 100 of 500"
    )
    assert "Full result: http://127.0.0.1:1/files/" in shaped.text
