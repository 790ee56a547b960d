"""Artifact storage: local signed URLs (default) or S3 presigned URLs, behind one interface.

The S3 store (`s3.py`) is imported only when `storage.backend` is `s3`: minio and
pycryptodome are about 6 MB of resident memory a middleware on local storage never uses.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from middleware.artifacts.base import ArtifactStore
from middleware.artifacts.local import InvalidSignature, LocalArtifactStore
from middleware.config_sections import StorageSettings

__all__ = [
    "ArtifactStore",
    "InvalidSignature",
    "LocalArtifactStore",
    "build_store",
]


def build_store(storage: StorageSettings, *, public_url: str, secret: str | None) -> ArtifactStore:
    if storage.backend == "s3":
        from middleware.artifacts.s3 import S3ArtifactStore

        return S3ArtifactStore(storage)
    directory = (
        Path(storage.local_dir)
        if storage.local_dir
        else Path(tempfile.mkdtemp(prefix="toolrelay-artifacts-"))
    )
    key = secret.encode() if secret else secrets.token_bytes(32)
    return LocalArtifactStore(
        directory, public_url=public_url, secret=key, expiry=storage.presign_expiry
    )
