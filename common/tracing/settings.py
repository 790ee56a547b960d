"""Where traces go, read from the config's callbacks and the standard environment.

OpenTelemetry is on when `otel` is among the callbacks, or when the environment names an
OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
LiteLLM's `OTEL_ENDPOINT`) or sets `OTEL_TRACES_EXPORTER=otlp`. `OTEL_SDK_DISABLED=true` or
`OTEL_TRACES_EXPORTER=none` turn it off. Langfuse is on with the `langfuse` callback; its key
pair and host come from `litellm_settings.langfuse_*` or `LANGFUSE_PUBLIC_KEY`,
`LANGFUSE_SECRET_KEY`, `LANGFUSE_HOST`.

How spans leave (queue, batches, timeouts, the retry bound) is `export_settings`.

Prompt and completion content is recorded only when `turn_off_message_logging` is set to
false explicitly; key, team and user ids only when `redact_user_api_key_info` is false.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config.errors import ConfigError, describe_validation_error
from common.tracing.export_settings import DEFAULT_EXPORT, ExportSettings, export_settings

OTEL_CALLBACKS = frozenset({"otel"})
LANGFUSE_CALLBACKS = frozenset({"langfuse", "langfuse_otel"})  # LiteLLM's preset too
CALLBACK_KEYS = ("success_callback", "failure_callback", "callbacks")

DEFAULT_OTLP_ENDPOINT = "http://localhost:4318"
TRACES_PATH = "/v1/traces"
DEFAULT_LANGFUSE_HOST = "https://cloud.langfuse.com"
LANGFUSE_OTLP_PATH = "/api/public/otel/v1/traces"


class TracingKeys(BaseModel):
    """The `litellm_settings` keys that decide tracing, as every service reads them.

    The gateway's `LiteLLMSettings` extends this; the middleware and the MCP servers validate
    just these keys from the same section. None (unset) means off for both content switches:
    content and key ids stay out of traces by default.
    """

    model_config = ConfigDict(extra="ignore")

    success_callback: list[str] = Field(default_factory=list)
    failure_callback: list[str] = Field(default_factory=list)
    callbacks: list[str] | str | None = None
    turn_off_message_logging: bool | None = None
    redact_user_api_key_info: bool | None = None
    langfuse_public_key: str | None = None
    langfuse_secret: str | None = None
    langfuse_secret_key: str | None = None
    langfuse_host: str | None = None
    langfuse_default_tags: list[str] = Field(default_factory=list)

    @classmethod
    def from_section(cls, section: Any, where: str) -> TracingKeys:
        """From a raw `litellm_settings` mapping (None or absent: all defaults); a bad value
        is a `ConfigError` naming `where` (the file) and the key."""
        try:
            return cls.model_validate(section if isinstance(section, Mapping) else {})
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(where, exc, "litellm_settings")) from None

    def callback_names(self) -> set[str]:
        names: set[str] = set()
        for key in CALLBACK_KEYS:
            value = getattr(self, key)
            names.update([value] if isinstance(value, str) else value or [])
        return {name.strip() for name in names}


@dataclass(frozen=True, slots=True)
class OtlpTarget:
    name: str  # "otel" or "langfuse", for logs
    endpoint: str  # the full traces URL
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TracingSettings:
    service_name: str
    targets: tuple[OtlpTarget, ...] = ()
    record_content: bool = False
    record_key_info: bool = False
    default_tags: tuple[str, ...] = ()
    export: ExportSettings = DEFAULT_EXPORT  # queue, batches, timeout, retry bound
    problems: tuple[str, ...] = ()  # start-up warnings (e.g. langfuse without keys)

    @property
    def enabled(self) -> bool:
        return bool(self.targets)


def parse_headers(raw: str | None) -> dict[str, str]:
    """`OTEL_EXPORTER_OTLP_HEADERS` format: `k1=v1,k2=v2`, values URL-encoded."""
    headers: dict[str, str] = {}
    for item in (raw or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[key.strip()] = unquote(value.strip())
    return headers


def otel_target(environ: Mapping[str, str], *, forced: bool) -> OtlpTarget | None:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return None
    full = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_ENDPOINT")
    if not (forced or full or base or exporter == "otlp"):
        return None
    if full:
        endpoint = full
    else:
        root = (base or DEFAULT_OTLP_ENDPOINT).rstrip("/")
        endpoint = root if root.endswith(TRACES_PATH) else root + TRACES_PATH
    headers = parse_headers(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
        or environ.get("OTEL_EXPORTER_OTLP_HEADERS")
        or environ.get("OTEL_HEADERS")
    )
    return OtlpTarget("otel", endpoint, headers)


def langfuse_target(
    settings: TracingKeys, environ: Mapping[str, str]
) -> tuple[OtlpTarget | None, str | None]:
    public = settings.langfuse_public_key or environ.get("LANGFUSE_PUBLIC_KEY")
    secret = (
        settings.langfuse_secret_key
        or settings.langfuse_secret
        or environ.get("LANGFUSE_SECRET_KEY")
    )
    host = (
        settings.langfuse_host
        or environ.get("LANGFUSE_HOST")
        or environ.get("LANGFUSE_BASE_URL")
        or DEFAULT_LANGFUSE_HOST
    )
    if not public or not secret:
        return None, (
            "callback langfuse: set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY "
            "(or litellm_settings.langfuse_public_key / langfuse_secret_key); not sending"
        )
    token = base64.b64encode(f"{public}:{secret}".encode()).decode()
    endpoint = host.rstrip("/") + LANGFUSE_OTLP_PATH
    return OtlpTarget("langfuse", endpoint, {"Authorization": f"Basic {token}"}), None


def tracing_settings(
    settings: TracingKeys, environ: Mapping[str, str], *, service_name: str
) -> TracingSettings:
    targets: list[OtlpTarget] = []
    problems: list[str] = []
    callbacks = settings.callback_names()
    otel = otel_target(environ, forced=bool(callbacks & OTEL_CALLBACKS))
    if otel is not None:
        targets.append(otel)
    if callbacks & LANGFUSE_CALLBACKS:
        langfuse, problem = langfuse_target(settings, environ)
        if langfuse is not None:
            targets.append(langfuse)
        if problem is not None:
            problems.append(problem)
    export = DEFAULT_EXPORT
    if targets:
        export, export_problems = export_settings(environ)
        problems += export_problems
    return TracingSettings(
        service_name=environ.get("OTEL_SERVICE_NAME") or service_name,
        targets=tuple(targets),
        record_content=settings.turn_off_message_logging is False,
        record_key_info=settings.redact_user_api_key_info is False,
        default_tags=tuple(settings.langfuse_default_tags),
        export=export,
        problems=tuple(problems),
    )
