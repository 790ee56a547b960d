"""Load a LiteLLM-format `config.yaml` for the gateway: read it with `common.config`, apply
the gateway's env overrides, validate its sections, and warn (never fail) about keys
toolrelay does not use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from common.config import (
    ConfigDocument,
    ConfigError,
    apply_env_overrides,
    describe_validation_error,
    document_from_mapping,
    format_key_path,
    read_document,
    undeclared_keys,
)
from common.config.report import Finding, validation_findings
from gateway.config.catalog import LITELLM_PARAMS_PROVIDER
from gateway.config.compat import apply_litellm_tolerances
from gateway.config.report import gateway_findings
from gateway.config.schema import ConfigFile, LiteLLMParams

# litellm_params keys that are request defaults (LiteLLM passes them to the provider call).
REQUEST_DEFAULT_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "response_format",
        "reasoning_effort",
        "extra_body",
        "user",
        "n",
        "logprobs",
        "top_logprobs",
        "parallel_tool_calls",
        "tool_choice",
        # also forwarded by LiteLLM as per-deployment request defaults
        "thinking",
        "top_k",
        "logit_bias",
        "modalities",
        "audio",
        "prediction",
        "verbosity",
        "web_search_options",
        "service_tier",
        "store",
        "stream_options",
    }
)

# Environment variables that win over the file (`NAME -> (section, key)`), as in LiteLLM.
ENV_OVERRIDES = {
    "LITELLM_MASTER_KEY": ("general_settings", "master_key"),
    "DATABASE_URL": ("general_settings", "database_url"),
}

__all__ = [
    "ConfigError",
    "LoadedConfig",
    "check_gateway",
    "config_from_mapping",
    "load_config",
    "unknown_keys",
]


@dataclass
class LoadedConfig:
    path: Path | None
    file: ConfigFile
    warnings: list[str] = field(default_factory=list)
    redis_url: str | None = None
    # REDIS_SOCKET_TIMEOUT: how long a Redis call may take before its caller takes its
    # degraded mode (gateway/shared_redis.py); None keeps the fail-fast default
    redis_timeout: float | None = None
    # What the gateway makes of every key (`toolrelay config check` prints the same).
    findings: list[Finding] = field(default_factory=list)

    @property
    def master_key(self) -> str | None:
        return self.file.general_settings.master_key


def load_config(path: str | Path | None, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate `path` (or an empty config when None)."""
    return config_from_document(read_document(path, environ))


def config_from_mapping(
    raw: Any, *, source: Path | None = None, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    return config_from_document(document_from_mapping(raw, source=source, environ=environ))


def config_from_document(document: ConfigDocument) -> LoadedConfig:
    resolved, tolerated = _prepare(document)
    try:
        parsed = ConfigFile.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(document.where, exc)) from None
    warnings = [
        w for w in document.missing_warnings() if not w.startswith(_OTHER_SERVICES_PREFIXES)
    ]
    warnings += [f"{f.path}: {f.message}" for f in tolerated if f.needs_attention]
    warnings.extend(unknown_keys(parsed))
    findings = tolerated + gateway_findings(document, parsed, REQUEST_DEFAULT_PARAMS)
    return LoadedConfig(
        path=document.path,
        file=parsed,
        warnings=warnings,
        redis_url=document.environ.get("REDIS_URL") or _redis_url_from_settings(parsed),
        redis_timeout=_redis_timeout(document.environ),
        findings=findings,
    )


def _redis_timeout(environ: Mapping[str, str]) -> float | None:
    text = environ.get("REDIS_SOCKET_TIMEOUT")
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 60:
        raise ConfigError(
            f"REDIS_SOCKET_TIMEOUT: expected seconds between 0 and 60, e.g. 0.25, got {text!r}"
        )
    return seconds


def check_gateway(document: ConfigDocument) -> list[Finding]:
    """The gateway's findings; a file it would refuse gives fatal `wrong` findings instead."""
    try:
        return config_from_document(document).findings
    except ConfigError:
        pass
    resolved, tolerated = _prepare(document)
    try:
        ConfigFile.model_validate(resolved)
    except ValidationError as exc:
        return tolerated + validation_findings(exc, document.lines)
    raise AssertionError("config_from_document failed but the file validates")


_OTHER_SERVICES_PREFIXES = (
    "mcp_servers.",
    "middleware_settings.",
    "mcp_server_settings.",
    "storage.",
)


def _prepare(document: ConfigDocument) -> tuple[dict[str, Any], list[Finding]]:
    resolved = dict(document.data)
    apply_env_overrides(resolved, document.environ, ENV_OVERRIDES)
    tolerated = apply_litellm_tolerances(resolved, document.environ, document.lines)
    return resolved, tolerated


def _redis_url_from_settings(parsed: ConfigFile) -> str | None:
    router = parsed.router_settings
    url = (router.model_extra or {}).get("redis_url")
    if isinstance(url, str) and url:
        return url
    if not router.redis_host:
        return None
    auth = f":{router.redis_password}@" if router.redis_password else ""
    return f"redis://{auth}{router.redis_host}:{router.redis_port or 6379}/0"


def unknown_keys(parsed: ConfigFile) -> list[str]:
    """Warnings for every key the schema does not know (request defaults and the settings a
    provider reads excepted)."""
    return [
        f"{format_key_path(path)}: unknown key, ignored"
        for path in undeclared_keys(parsed, known=_is_read_extra)
    ]


def _is_read_extra(model: BaseModel, key: str) -> bool:
    return isinstance(model, LiteLLMParams) and (
        key in REQUEST_DEFAULT_PARAMS or key in LITELLM_PARAMS_PROVIDER
    )
