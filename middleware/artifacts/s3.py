"""Artifacts in an S3 bucket (MinIO, SeaweedFS, AWS), shared as presigned GET URLs."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import anyio
from minio import Minio
from minio.error import S3Error

from middleware.artifacts.base import object_name
from middleware.config_sections import StorageSettings

# Another writer (or replica) created it first: that is what we wanted.
_BUCKET_EXISTS = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
# The link signer names its region so that signing never asks the (public) endpoint for it.
DEFAULT_REGION = "us-east-1"


def minio_client(storage: StorageSettings) -> Minio:
    endpoint = storage.endpoint or ""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    secure = storage.secure if storage.secure is not None else parts.scheme == "https"
    return Minio(
        parts.netloc,
        access_key=storage.access_key,
        secret_key=storage.secret_key,
        secure=secure,
        region=storage.region,
    )


def link_signer(storage: StorageSettings) -> Minio | None:
    """A client for `public_endpoint` that only signs links (no request goes through it):
    SigV4 covers the Host header, so a link signed for the internal endpoint would be
    refused when it arrives through the public one. None: links name `endpoint`."""
    if not storage.public_endpoint:
        return None
    public = urlsplit(storage.public_endpoint)
    return Minio(
        public.netloc,
        access_key=storage.access_key,
        secret_key=storage.secret_key,
        secure=public.scheme == "https",
        region=storage.region or DEFAULT_REGION,
    )


class S3ArtifactStore:
    def __init__(self, storage: StorageSettings, client: Minio | None = None) -> None:
        self.bucket = storage.bucket
        self.expiry = timedelta(seconds=storage.presign_expiry)
        self._client = client or minio_client(storage)
        self._signer = link_signer(storage) or self._client
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    def _ensure_bucket(self) -> None:
        # Tool calls run concurrently, each put in its own thread: create the bucket once.
        with self._bucket_lock:
            if self._bucket_ready:
                return
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in _BUCKET_EXISTS:
                        raise
            self._bucket_ready = True

    def _put_sync(self, name: str, data: bytes, content_type: str) -> str:
        if not self._bucket_ready:
            self._ensure_bucket()
        self._client.put_object(
            self.bucket, name, io.BytesIO(data), len(data), content_type=content_type
        )
        return str(self._signer.presigned_get_object(self.bucket, name, expires=self.expiry))

    async def put(self, data: bytes, content_type: str) -> str:
        name = object_name(content_type)
        return await anyio.to_thread.run_sync(self._put_sync, name, data, content_type)
