"""Object store operations over the (synchronous) minio SDK, run in worker threads.

Errors:

    StorageError
    ├── StorageUnavailable  - the endpoint cannot be reached
    ├── NotAllowed          - bucket not in allowed_buckets, or a write in read-only mode
    └── S3Failed            - the S3 server refused the request (code + message)
        └── NotFound        - NoSuchKey / NoSuchBucket
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import structlog
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from mcp_servers.storage._settings import StorageSettings

logger = structlog.get_logger(__name__)

T = TypeVar("T")

DEFAULT_REGION = "us-east-1"
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"})


class StorageError(Exception):
    """Base of everything `ObjectStore` raises."""


class StorageUnavailable(StorageError):
    """The S3 endpoint cannot be reached."""


class NotAllowed(StorageError):
    """Refused by this server's policy (bucket allowlist, read-only mode)."""


class S3Failed(StorageError):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class NotFound(S3Failed):
    """The bucket or object does not exist."""


def map_error(exc: Exception, what: str) -> StorageError:
    """The single boundary from minio/urllib3 errors to `StorageError`."""
    if isinstance(exc, S3Error):
        kind = NotFound if exc.code in NOT_FOUND_CODES else S3Failed
        return kind(f"{what}: S3 error {exc.code}: {exc.message}", exc.code)
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return StorageUnavailable(f"{what}: storage unavailable: {type(exc).__name__}: {exc}")
    if isinstance(exc, MinioException | ValueError):
        return S3Failed(f"{what}: {exc}")
    return StorageError(f"{what}: unexpected error: {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    size: int | None
    last_modified: datetime.datetime | None
    content_type: str | None
    etag: str | None
    is_dir: bool = False


@dataclass(frozen=True)
class Download:
    info: ObjectInfo
    data: bytes
    truncated: bool


class ObjectStore:
    """Policy (allowlist, read-only, bucket creation) plus the minio calls, off the event loop."""

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(5.0, settings.timeout_s), read=settings.timeout_s),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
            maxsize=10,
        )
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )
        # Links are signed for the address clients will use; SigV4 covers the Host header,
        # so a link signed for the internal endpoint would not work through a public one.
        self.signer = self.client
        if settings.public_endpoint:
            public = urlsplit(settings.public_endpoint)
            self.signer = Minio(
                public.netloc,
                access_key=settings.access_key,
                secret_key=settings.secret_key,
                secure=public.scheme == "https",
                region=settings.region or DEFAULT_REGION,  # signing stays offline
                http_client=http,
            )
        self._default_bucket_ready = False
        self._bucket_lock = anyio.Lock()

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(fn)
        except StorageError:
            raise
        except Exception as exc:
            raise map_error(exc, what) from exc

    def check_bucket(self, bucket: str) -> None:
        if not self.settings.bucket_allowed(bucket):
            allowed = sorted({self.settings.bucket, *(self.settings.allowed_buckets or [])})
            raise NotAllowed(
                f"bucket {bucket!r} is not allowed here; allowed buckets: {', '.join(allowed)}"
            )

    def check_writable(self) -> None:
        if self.settings.read_only:
            raise NotAllowed("this storage server is read-only: uploads and deletes are disabled")

    async def ensure_default_bucket(self) -> None:
        """Create the default bucket if missing (once; retried after a failure)."""
        if self._default_bucket_ready or self.settings.read_only or not self.settings.create_bucket:
            return
        async with self._bucket_lock:
            if self._default_bucket_ready:
                return
            bucket = self.settings.bucket

            def ensure() -> None:
                if not self.client.bucket_exists(bucket):
                    self.client.make_bucket(bucket)
                    logger.info("created bucket", bucket=bucket)

            await self._call(f"creating bucket {bucket}", ensure)
            self._default_bucket_ready = True

    async def _prepare(self, bucket: str) -> None:
        self.check_bucket(bucket)
        if bucket == self.settings.bucket:
            await self.ensure_default_bucket()

    async def list_buckets(self) -> list[tuple[str, datetime.datetime | None]]:
        await self.ensure_default_bucket()
        buckets = await self._call("listing buckets", self.client.list_buckets)
        return [(b.name, b.creation_date) for b in buckets if self.settings.bucket_allowed(b.name)]

    async def list_objects(
        self, bucket: str, prefix: str, recursive: bool, limit: int
    ) -> tuple[list[ObjectInfo], bool]:
        """Up to `limit` objects, and whether more exist."""
        await self._prepare(bucket)

        def collect() -> tuple[list[ObjectInfo], bool]:
            found: list[ObjectInfo] = []
            for item in self.client.list_objects(
                bucket, prefix=prefix or None, recursive=recursive
            ):
                if len(found) == limit:
                    return found, True
                found.append(
                    ObjectInfo(
                        name=item.object_name or "",
                        size=item.size,
                        last_modified=item.last_modified,
                        content_type=item.content_type,
                        etag=item.etag,
                        is_dir=bool(item.is_dir),
                    )
                )
            return found, False

        return await self._call(f"listing s3://{bucket}/{prefix}", collect)

    async def stat(self, bucket: str, name: str) -> ObjectInfo:
        await self._prepare(bucket)
        stat: Any = await self._call(
            f"s3://{bucket}/{name}", lambda: self.client.stat_object(bucket, name)
        )
        return ObjectInfo(
            name=name,
            size=stat.size,
            last_modified=stat.last_modified,
            content_type=stat.content_type,
            etag=stat.etag,
        )

    async def upload(self, bucket: str, name: str, data: bytes, content_type: str) -> str:
        self.check_writable()
        if len(data) > self.settings.max_upload_bytes:
            raise NotAllowed(
                f"the content is {len(data)} bytes; the upload limit is {self.settings.max_upload_bytes}"
            )
        await self._prepare(bucket)
        result: Any = await self._call(
            f"uploading s3://{bucket}/{name}",
            lambda: self.client.put_object(
                bucket, name, io.BytesIO(data), len(data), content_type=content_type
            ),
        )
        return str(result.etag or "")

    async def download(self, bucket: str, name: str, limit: int) -> Download:
        info = await self.stat(bucket, name)
        length = min(info.size or 0, limit)

        def read() -> bytes:
            if length == 0:
                return b""
            response = self.client.get_object(bucket, name, offset=0, length=length)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        data = await self._call(f"downloading s3://{bucket}/{name}", read)
        return Download(info=info, data=data, truncated=(info.size or 0) > len(data))

    async def delete(self, bucket: str, name: str) -> None:
        self.check_writable()
        await self.stat(bucket, name)  # S3 deletes of missing keys "succeed"; say so instead
        await self._call(
            f"deleting s3://{bucket}/{name}", lambda: self.client.remove_object(bucket, name)
        )

    async def presigned_get(self, bucket: str, name: str, expires_s: int) -> str:
        await self.stat(bucket, name)
        return await self._call(
            f"signing s3://{bucket}/{name}",
            lambda: self.signer.presigned_get_object(
                bucket, name, expires=datetime.timedelta(seconds=expires_s)
            ),
        )
