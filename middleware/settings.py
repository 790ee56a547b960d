"""The middleware's settings: `middleware_settings` of the config file, validated.

`mcp_servers` and `storage` come from their own top-level sections of the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import ConfigDocument, ConfigError, describe_validation_error
from common.config.report import Finding, Verdict, validation_findings
from common.tls import SslVerifySetting
from middleware.config_report import middleware_findings
from middleware.config_sections import McpServerEntry, StorageSettings


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
    # TLS verification of the MCP servers and the gateway (true, false or a CA bundle); a
    # server's own ssl_verify and SSL_VERIFY win (common/tls.py)
    ssl_verify: SslVerifySetting | None = None


class _Sections(BaseModel):
    """The middleware's view of the file: only its own sections, the rest ignored."""

    model_config = ConfigDict(extra="ignore")

    middleware_settings: dict[str, Any] = Field(default_factory=dict)
    mcp_servers: dict[str, McpServerEntry] = Field(default_factory=dict)
    storage: StorageSettings = Field(default_factory=StorageSettings)


@dataclass(frozen=True)
class AppSettings:
    middleware: MiddlewareSettings
    mcp_servers: dict[str, McpServerEntry]
    storage: StorageSettings
    master_key: str | None
    json_logs: bool | None = None
    # What the middleware makes of its sections (`toolrelay config check` prints the same).
    findings: list[Finding] = field(default_factory=list)


def settings_from_config(document: ConfigDocument) -> AppSettings:
    source = document.where
    data = {k: v for k, v in document.data.items() if k in _Sections.model_fields}
    try:
        sections = _Sections.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(source, exc)) from None
    try:
        middleware = MiddlewareSettings.model_validate(sections.middleware_settings)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(source, exc, "middleware_settings")) from None
    for name, entry in sections.mcp_servers.items():
        if entry.transport != "stdio" and not entry.url:
            raise ConfigError(f"{source}: mcp_servers.{name}.url: required for {entry.transport}")
    findings = middleware_findings(
        document, sections.middleware_settings, set(MiddlewareSettings.model_fields), sections
    )
    return AppSettings(
        middleware=middleware,
        mcp_servers=dict(sections.mcp_servers),
        storage=sections.storage,
        master_key=_master_key(document),
        json_logs=_json_logs(document),
        findings=findings,
    )


def _master_key(document: ConfigDocument) -> str | None:
    # LITELLM_MASTER_KEY wins over the file, as in the gateway.
    general = document.data.get("general_settings")
    from_file = general.get("master_key") if isinstance(general, dict) else None
    return document.environ.get("LITELLM_MASTER_KEY") or from_file


def _json_logs(document: ConfigDocument) -> bool | None:
    settings = document.data.get("litellm_settings")
    value = settings.get("json_logs") if isinstance(settings, dict) else None
    return value if isinstance(value, bool) else None


def check_middleware(document: ConfigDocument) -> list[Finding]:
    """The middleware's findings; a file it would refuse gives fatal findings instead."""
    data = {k: v for k, v in document.data.items() if k in _Sections.model_fields}
    try:
        sections = _Sections.model_validate(data)
        MiddlewareSettings.model_validate(sections.middleware_settings)
    except ValidationError as exc:
        prefix: tuple[str, ...] = ()
        if exc.title == MiddlewareSettings.__name__:
            prefix = ("middleware_settings",)
        return validation_findings(exc, document.lines, prefix)
    try:
        return settings_from_config(document).findings
    except ConfigError as exc:
        # The one check after validation: an HTTP server without a url ("path: message").
        path, _, message = str(exc).removeprefix(f"{document.where}: ").partition(": ")
        return [Finding(Verdict.WRONG, path, message, fatal=True)]
