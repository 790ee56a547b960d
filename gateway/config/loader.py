"""Load a LiteLLM-format `config.yaml`: resolve `os.environ/NAME`, apply env overrides,
validate, and warn (never fail) about keys toolrelay does not use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from gateway.config.schema import ConfigFile, LiteLLMParams

ENV_PREFIX = "os.environ/"

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
    }
)


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, key path and expectation."""


@dataclass
class LoadedConfig:
    path: Path | None
    file: ConfigFile
    warnings: list[str] = field(default_factory=list)
    redis_url: str | None = None

    @property
    def master_key(self) -> str | None:
        return self.file.general_settings.master_key


def load_config(path: str | Path | None, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate `path` (or an empty config when None)."""
    env = dict(os.environ if environ is None else environ)
    source = Path(path) if path is not None else None
    raw: Any = {}
    if source is not None:
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{source}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read: {exc}") from exc
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: invalid YAML: {exc}") from exc
    return config_from_mapping(raw, source=source, environ=env)


def config_from_mapping(
    raw: Any, *, source: Path | None = None, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    env = dict(os.environ if environ is None else environ)
    where = str(source) if source is not None else "<config>"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level, got {_kind(raw)}")
    warnings: list[str] = []
    declared_env = raw.get("environment_variables") or {}
    if isinstance(declared_env, dict):
        # LiteLLM exports this section into the process environment; resolve references against it.
        env = {**{str(k): str(v) for k, v in declared_env.items()}, **env}
    resolved = _resolve_env(raw, env, (), warnings)
    _apply_env_overrides(resolved, env)
    try:
        parsed = ConfigFile.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(where, exc)) from None
    warnings.extend(unknown_keys(parsed))
    redis_url = env.get("REDIS_URL") or _redis_url_from_settings(parsed)
    return LoadedConfig(path=source, file=parsed, warnings=warnings, redis_url=redis_url)


def _resolve_env(
    value: Any, env: Mapping[str, str], path: tuple[str | int, ...], warnings: list[str]
) -> Any:
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        if name not in env:
            warnings.append(f"{format_path(path)}: environment variable {name} is not set")
            return None
        return env[name]
    if isinstance(value, dict):
        return {k: _resolve_env(v, env, (*path, str(k)), warnings) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, env, (*path, i), warnings) for i, v in enumerate(value)]
    return value


def _apply_env_overrides(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    general = raw.get("general_settings")
    if not isinstance(general, dict):
        general = {}
        raw["general_settings"] = general
    if env.get("LITELLM_MASTER_KEY"):
        general["master_key"] = env["LITELLM_MASTER_KEY"]
    if env.get("DATABASE_URL"):
        general["database_url"] = env["DATABASE_URL"]


def _redis_url_from_settings(parsed: ConfigFile) -> str | None:
    router = parsed.router_settings
    if not router.redis_host:
        return None
    auth = f":{router.redis_password}@" if router.redis_password else ""
    return f"redis://{auth}{router.redis_host}:{router.redis_port or 6379}/0"


def unknown_keys(parsed: ConfigFile) -> list[str]:
    """Warnings for every key the schema does not know (request defaults excepted)."""
    found: list[tuple[str | int, ...]] = []
    _collect_extras(parsed, (), found)
    return [f"{format_path(path)}: unknown key, ignored" for path in found]


def _collect_extras(
    model: BaseModel, path: tuple[str | int, ...], found: list[tuple[str | int, ...]]
) -> None:
    for key in model.model_extra or {}:
        if isinstance(model, LiteLLMParams) and key in REQUEST_DEFAULT_PARAMS:
            continue
        found.append((*path, key))
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _collect_extras(value, (*path, name), found)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _collect_extras(item, (*path, name, i), found)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    _collect_extras(item, (*path, name, key), found)


def format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _describe_validation_error(where: str, exc: ValidationError) -> str:
    lines = [f"{where}: invalid configuration"]
    for err in exc.errors():
        loc = format_path(tuple(err["loc"]))
        got = err.get("input")
        shown = f", got {got!r}" if not isinstance(got, dict | list) else f", got {_kind(got)}"
        lines.append(f"  {loc}: {err['msg'].lower()}{shown}")
    return "\n".join(lines)


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)
