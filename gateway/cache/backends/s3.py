"""S3 cache (AWS, MinIO, SeaweedFS) through the minio SDK, whose blocking calls run in threads.

S3 has no per-object expiry; the response cache stores each entry's expiry inside the entry
and checks it on read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

import anyio.to_thread
import urllib3
from minio import Minio
from minio.error import S3Error

from gateway.cache.backends import CacheBackendError

_MISSING = frozenset({"NoSuchKey", "NoSuchObject"})


@dataclass
class S3Backend:
    client: Minio
    bucket: str
    prefix: str = ""

    @classmethod
    def create(
        cls,
        *,
        bucket: str,
        endpoint_url: str | None,
        access_key: str | None,
        secret_key: str | None,
        session_token: str | None = None,
        region: str | None = None,
        use_ssl: bool | None = None,
        verify: bool | None = None,
        prefix: str | None = None,
    ) -> S3Backend:
        parts = urlsplit(endpoint_url or "https://s3.amazonaws.com")
        secure = parts.scheme == "https" if use_ssl is None else use_ssl
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2.0, read=10.0),
            retries=False,
            maxsize=32,
            cert_reqs="CERT_REQUIRED" if verify is not False else "CERT_NONE",
        )
        client = Minio(
            parts.netloc or parts.path,
            access_key=access_key,
            secret_key=secret_key,
            session_token=session_token,
            secure=secure,
            region=region or "us-east-1",
            http_client=http,
        )
        clean = (prefix or "").strip("/")
        return cls(client=client, bucket=bucket, prefix=f"{clean}/" if clean else "")

    def _get(self, name: str) -> bytes | None:
        try:
            response = self.client.get_object(self.bucket, name)
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise CacheBackendError(f"s3 get failed: {exc.code}") from exc
        try:
            data: bytes = response.read()
            return data
        finally:
            response.close()
            response.release_conn()

    def _put(self, name: str, value: bytes) -> None:
        try:
            self.client.put_object(
                self.bucket, name, io.BytesIO(value), len(value), content_type="application/json"
            )
        except S3Error as exc:
            raise CacheBackendError(f"s3 put failed: {exc.code}") from exc

    async def get(self, key: str) -> bytes | None:
        try:
            return await anyio.to_thread.run_sync(self._get, self.prefix + key)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise CacheBackendError(f"s3 unreachable: {exc}") from exc

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        try:
            await anyio.to_thread.run_sync(partial(self._put, self.prefix + key, value))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise CacheBackendError(f"s3 unreachable: {exc}") from exc

    async def aclose(self) -> None:
        return None
