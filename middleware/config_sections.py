"""The middleware's own sections of the shared config file: `mcp_servers` and `storage`.

Unknown keys are allowed (LiteLLM's own `mcp_servers` keys among them) and reported by
`middleware.settings`.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.tls import SslVerifySetting


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class McpServerEntry(_Section):
    url: str | None = None
    transport: Literal["http", "sse", "stdio", "streamable_http", "streamable-http"] = "http"
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    auth_type: str | None = None
    auth_value: str | None = None
    allowed_tools: list[str] | None = None
    disallowed_tools: list[str] | None = None
    timeout: float | None = Field(default=None, gt=0)
    # TLS verification of an https url: true, false or a CA bundle (middleware/mcp_pool/tls.py)
    ssl_verify: SslVerifySetting | None = None

    @field_validator("env", mode="before")
    @classmethod
    def _drop_unset(cls, value: Any) -> Any:
        # An `os.environ/NAME` whose variable is unset resolves to None: the loader has
        # already warned about it, and the child simply does not get that variable.
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        return value


class StorageSettings(_Section):
    backend: Literal["local", "s3"] = "local"
    endpoint: str | None = None
    # Where presigned links point when browsers cannot reach `endpoint` (an internal name
    # like seaweedfs:8333): the links are signed for this host, the uploads still go to
    # `endpoint`. The storage MCP server reads the same key from this section.
    public_endpoint: str | None = None
    bucket: str = "mcp-storage"
    access_key: str | None = None
    secret_key: str | None = None
    region: str | None = None
    secure: bool | None = None
    presign_expiry: int = Field(default=24 * 3600, gt=0, le=7 * 24 * 3600)
    local_dir: str | None = None

    @field_validator("public_endpoint")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        # SigV4 signs the path too: a proxy that added or stripped a prefix would break every
        # link, so the public endpoint is an origin and the proxy routes by host name.
        if not value:  # an empty variable (`S3_PUBLIC_ENDPOINT=`) means "not set"
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"expected http(s)://host[:port] with no path, got {value!r}")
        return value
