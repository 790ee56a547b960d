"""The storage server's settings.

Read from `mcp_server_settings.storage`; when that section names no endpoint, the
top-level `storage:` section of the same config file (shared with the middleware's
artifact store) is used instead, so one S3 configuration serves both. Whatever neither
sets comes from the environment (twelve-factor, as the postgres server reads
$DATABASE_URL): `S3_ENDPOINT`, `S3_ACCESS_KEY`, `S3_SECRET_KEY`, `S3_REGION`, `S3_BUCKET`,
`S3_PUBLIC_ENDPOINT`, or the MinIO and AWS spellings listed in `ENVIRONMENT`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from common.config import ConfigError, format_key_path, read_yaml, validation_problems
from common.config import resolve_references as resolve_env_references

DEFAULT_BUCKET = "mcp-storage"
DAY = 24 * 3600
MAX_PRESIGN_SECONDS = 7 * DAY  # the S3 SigV4 limit

# Each setting and the environment variables that can carry it, first match wins. MinIO's
# and the AWS SDKs' own names are accepted so an existing .env works unchanged.
ENVIRONMENT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("endpoint", ("S3_ENDPOINT", "MINIO_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")),
    (
        "access_key",
        ("S3_ACCESS_KEY", "MINIO_ACCESS_KEY", "MINIO_ROOT_USER", "AWS_ACCESS_KEY_ID"),
    ),
    (
        "secret_key",
        ("S3_SECRET_KEY", "MINIO_SECRET_KEY", "MINIO_ROOT_PASSWORD", "AWS_SECRET_ACCESS_KEY"),
    ),
    ("region", ("S3_REGION", "MINIO_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")),
    ("bucket", ("S3_BUCKET", "MINIO_BUCKET")),
    ("public_endpoint", ("S3_PUBLIC_ENDPOINT", "MINIO_PUBLIC_ENDPOINT")),
)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY}
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_duration(value: int | str) -> int:
    """Seconds from an int or a string like `3600`, `90m`, `24h`, `7d`."""
    if isinstance(value, int):
        return value
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"expected seconds or a duration like '24h' or '7d', got {value!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    endpoint: str = Field(min_length=1, description="host:port, or a URL like http://minio:9000")
    access_key: str | None = None
    secret_key: str | None = None
    secure: bool = False
    region: str | None = None
    public_endpoint: str | None = Field(
        default=None, description="http(s)://host:port that presigned links should point at"
    )
    bucket: str = DEFAULT_BUCKET
    allowed_buckets: list[str] | None = None
    read_only: bool = False
    create_bucket: bool = True
    presign_expiry: int = Field(default=DAY, ge=1, le=MAX_PRESIGN_SECONDS)
    max_download_bytes: int = Field(default=1024 * 1024, ge=1, le=256 * 1024 * 1024)
    max_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1, le=1024 * 1024 * 1024)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    allowed_hosts: list[str] | None = None
    auth_token: str | None = None

    @field_validator("presign_expiry", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("public_endpoint")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:  # an empty variable (`S3_PUBLIC_ENDPOINT=`) means "not set"
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"expected http(s)://host:port, got {value!r}")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not BUCKET_NAME.match(value):
            raise ValueError(f"not a valid S3 bucket name: {value!r}")
        return value

    def bucket_allowed(self, bucket: str) -> bool:
        """The default bucket always; others only when listed (all when no list is set)."""
        if bucket == self.bucket or self.allowed_buckets is None:
            return True
        return bucket in self.allowed_buckets


def normalize_endpoint(values: dict[str, Any]) -> dict[str, Any]:
    """Accept `http(s)://host:port` as well as `host:port`; the scheme sets `secure`."""
    endpoint = str(values.get("endpoint") or "")
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(
                f"storage endpoint must be host:port or http(s)://host:port, got {endpoint!r}"
            )
        values["endpoint"] = parts.netloc
        values.setdefault("secure", parts.scheme == "https")
    return values


def parse_settings(
    settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> StorageSettings:
    """Validated settings from the server's section, falling back to top-level `storage:`,
    then, when neither names an endpoint, to the environment (`S3_*`, `MINIO_*`, `AWS_*`).

    The file fallback needs the config file: the CLI passes it as `settings["config_path"]`.
    Raises ValueError with a readable message.
    """
    values = dict(settings)
    if not values.get("endpoint") and values.get("config_path"):
        values = {**shared_storage_section(str(values["config_path"])), **values}
    if not values.get("endpoint"):
        # Only as a whole: mixing a file's endpoint with another source's keys would sign
        # requests for one store with another's credentials.
        environment = settings_from_environment(os.environ if environ is None else environ)
        values = {**environment, **{k: v for k, v in values.items() if v not in (None, "")}}
    if not values.get("endpoint"):
        raise ValueError(
            "storage: no S3 endpoint: set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY, "
            "or mcp_server_settings.storage.endpoint "
            "(or the top-level storage section with backend: s3)"
        )
    try:
        return StorageSettings.model_validate(normalize_endpoint(values))
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc))
        raise ValueError(f"mcp_server_settings.storage: {problems}") from None


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings the environment carries, by the first variable set for each."""
    found: dict[str, str] = {}
    for setting, variables in ENVIRONMENT:
        value = next((environ[name] for name in variables if environ.get(name)), None)
        if value is not None:
            found[setting] = value
    return found


def shared_storage_section(config_path: str) -> dict[str, Any]:
    """The top-level `storage:` section when it describes S3; `{}` otherwise."""
    path = Path(config_path)
    try:
        document = read_yaml(path) if path.is_file() else None
    except ConfigError as exc:
        raise ValueError(f"{path}: cannot read the storage section: {exc}") from exc
    section = document.get("storage") if isinstance(document, Mapping) else None
    if not isinstance(section, Mapping) or section.get("backend", "s3") != "s3":
        return {}
    resolved, missing = resolve_env_references(section, os.environ, ("storage",))
    if missing:
        first = missing[0]
        raise ValueError(
            f"{path}: {format_key_path(first.path)}: environment variable {first.name!r} is not set"
        )
    assert isinstance(resolved, dict)
    return resolved
