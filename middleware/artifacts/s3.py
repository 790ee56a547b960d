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


class S3ArtifactStore:
    def __init__(self, storage: StorageSettings, client: Minio | None = None) -> None:
        self.bucket = storage.bucket
        self.expiry = timedelta(seconds=storage.presign_expiry)
        self._client = client or minio_client(storage)
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
        return str(self._client.presigned_get_object(self.bucket, name, expires=self.expiry))

    async def put(self, data: bytes, content_type: str) -> str:
        name = object_name(content_type)
        return await anyio.to_thread.run_sync(self._put_sync, name, data, content_type)
