"""A config file read once: YAML parsed, the environment applied, references resolved.

Every service reads the same file and validates only its own sections from
`ConfigDocument.data`. `os.environ/NAME` strings anywhere are replaced by the variable
(None when unset, reported in `missing`); the file's `environment_variables` section is
part of the environment, as LiteLLM exports it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from common.config.errors import ConfigError, KeyPath, format_key_path, kind_of

ENV_PREFIX = "os.environ/"


@dataclass(frozen=True)
class MissingVariable:
    """An `os.environ/NAME` reference whose variable is not set; its value becomes None."""

    path: KeyPath
    name: str


def resolve_references(
    value: Any, env: Mapping[str, str], path: KeyPath = ()
) -> tuple[Any, list[MissingVariable]]:
    """`value` with every `os.environ/NAME` string replaced by the variable (None when unset)."""
    missing: list[MissingVariable] = []
    return _resolve(value, env, path, missing), missing


def _resolve(
    value: Any, env: Mapping[str, str], path: KeyPath, missing: list[MissingVariable]
) -> Any:
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        if name not in env:
            missing.append(MissingVariable(path, name))
            return None
        return env[name]
    if isinstance(value, Mapping):
        return {str(k): _resolve(v, env, (*path, str(k)), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env, (*path, i), missing) for i, v in enumerate(value)]
    return value


def declared_environment(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """`env` plus the file's `environment_variables` section (the real environment wins).

    LiteLLM exports that section into the process environment, so references resolve
    against it too.
    """
    declared = raw.get("environment_variables") or {}
    if not isinstance(declared, Mapping):
        return dict(env)
    return {**{str(k): str(v) for k, v in declared.items()}, **env}


def apply_env_overrides(
    raw: dict[str, Any], env: Mapping[str, str], overrides: Mapping[str, tuple[str, str]]
) -> list[str]:
    """Set `section.key` from each non-empty variable in `overrides` (`NAME -> (section, key)`).

    Returns the names of the variables that were applied.
    """
    applied = []
    for name, (section_name, key) in overrides.items():
        value = env.get(name)
        if not value:
            continue
        section = raw.get(section_name)
        section = dict(section) if isinstance(section, dict) else {}
        section[key] = value
        raw[section_name] = section
        applied.append(name)
    return applied


@dataclass
class ConfigDocument:
    path: Path | None
    data: dict[str, Any]
    environ: dict[str, str]
    missing: list[MissingVariable] = field(default_factory=list)

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "<config>"

    def section(self, name: str) -> Any:
        return self.data.get(name)

    def missing_warnings(self) -> list[str]:
        return [
            f"{format_key_path(m.path)}: environment variable {m.name} is not set"
            for m in self.missing
        ]


def read_yaml(path: Path) -> Any:
    """The parsed file (`{}` when empty); unreadable or invalid YAML is a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc


def read_document(
    path: str | Path | None, environ: Mapping[str, str] | None = None
) -> ConfigDocument:
    """Read `path` (an empty document when None) and resolve it against `environ`."""
    source = Path(path) if path is not None else None
    raw = read_yaml(source) if source is not None else {}
    return document_from_mapping(raw, source=source, environ=environ)


def document_from_mapping(
    raw: Any, *, source: Path | None = None, environ: Mapping[str, str] | None = None
) -> ConfigDocument:
    where = str(source) if source is not None else "<config>"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level, got {kind_of(raw)}")
    env = declared_environment(raw, os.environ if environ is None else environ)
    resolved, missing = resolve_references(raw, env)
    return ConfigDocument(path=source, data=resolved, environ=env, missing=missing)
