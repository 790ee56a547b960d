"""The middleware's settings: `middleware_settings` of the config file, validated.

`mcp_servers` and `storage` come from their own top-level sections of the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.config import ConfigError, LoadedConfig
from gateway.config.schema import McpServerEntry, StorageSettings


class MiddlewareSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    gateway_url: str = "http://127.0.0.1:4000"
    gateway_timeout: float = Field(default=600.0, gt=0)
    max_iterations: int = Field(default=10, ge=1, le=100)
    tool_timeout: float = Field(default=60.0, gt=0)
    inject_tools: Literal["auto", "always", "never"] = "auto"
    # Models that get MCP tools (`auto`: every model unless listed in no_tool_models).
    tool_models: list[str] | None = None
    no_tool_models: list[str] = Field(default_factory=list)
    max_tool_result_chars: int = Field(default=20_000, ge=100)
    progress: bool = True
    history_tool_blocks: Literal["rebuild", "strip"] = "rebuild"
    heartbeat_interval: float = Field(default=5.0, gt=0)
    server_concurrency: int = Field(default=8, ge=1)
    tools_list_ttl: float = Field(default=300.0, gt=0)
    reconnect_initial_backoff: float = Field(default=0.25, gt=0)
    reconnect_max_backoff: float = Field(default=5.0, gt=0)
    health_check_interval: float = Field(default=15.0, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown: float = Field(default=15.0, gt=0)
    key_cache_ttl: float = Field(default=30.0, ge=0)
    public_url: str | None = None
    signing_secret: str | None = None
    # Stream each model call when the client streams (false: every call is stream=false,
    # and the answer goes out when it is complete).
    upstream_stream: bool = True
    # Who is asking, behind Open WebUI (see middleware/end_user.py): the shared secret of
    # its FORWARD_USER_INFO_HEADER_JWT_SECRET, and whether to trust its plain user headers.
    openwebui_jwt_secret: str | None = None
    trust_openwebui_user_headers: bool = False
    # Stateful MCP servers (browser, or `session: per_user`): one session per end user.
    user_session_idle_timeout: float = Field(default=900.0, gt=0)
    max_user_sessions: int = Field(default=100, ge=1)


@dataclass(frozen=True)
class AppSettings:
    middleware: MiddlewareSettings
    mcp_servers: dict[str, McpServerEntry]
    storage: StorageSettings
    master_key: str | None


def settings_from_config(config: LoadedConfig) -> AppSettings:
    source = str(config.path) if config.path is not None else "<config>"
    try:
        middleware = MiddlewareSettings.model_validate(config.file.middleware_settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"middleware_settings.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None
    unknown = sorted(set(config.file.middleware_settings) - set(MiddlewareSettings.model_fields))
    if unknown:
        structlog.get_logger("middleware.settings").warning(
            "unknown middleware_settings keys ignored", file=source, keys=unknown
        )
    for name, entry in config.file.mcp_servers.items():
        if entry.transport != "stdio" and not entry.url:
            raise ConfigError(f"{source}: mcp_servers.{name}.url: required for {entry.transport}")
    return AppSettings(
        middleware=middleware,
        mcp_servers=dict(config.file.mcp_servers),
        storage=config.file.storage,
        master_key=config.master_key,
    )
