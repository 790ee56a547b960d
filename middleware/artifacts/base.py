"""Where tool artifacts (images, binaries, whole oversized results) go: one interface."""

from __future__ import annotations

import mimetypes
import uuid
from typing import Protocol


class ArtifactStore(Protocol):
    async def put(self, data: bytes, content_type: str) -> str:
        """Store `data`; return a URL that fetches it (signed or presigned, expiring)."""
        ...


def object_name(content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return f"{uuid.uuid4().hex}{extension}"
