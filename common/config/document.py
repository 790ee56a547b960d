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
from common.config.report import key_lines

ENV_PREFIX = "os.environ/"


@dataclass(frozen=True)
class MissingVariable:
    """An `os.environ/NAME` reference whose variable is not set; its value becomes None."""

    path: KeyPath
    name: str


@dataclass(frozen=True)
class EnvReference:
    """One `os.environ/NAME` reference in the file, and whether its variable is set."""

    path: KeyPath
    name: str
    is_set: bool


def resolve_references(
    value: Any, env: Mapping[str, str], path: KeyPath = ()
) -> tuple[Any, list[MissingVariable]]:
    """`value` with every `os.environ/NAME` string replaced by the variable (None when unset)."""
    resolved, references = resolve_all(value, env, path)
    return resolved, [MissingVariable(r.path, r.name) for r in references if not r.is_set]


def resolve_all(
    value: Any, env: Mapping[str, str], path: KeyPath = ()
) -> tuple[Any, list[EnvReference]]:
    """Like `resolve_references`, reporting every reference, set or not."""
    found: list[EnvReference] = []
    return _resolve(value, env, path, found), found


def _resolve(value: Any, env: Mapping[str, str], path: KeyPath, found: list[EnvReference]) -> Any:
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        found.append(EnvReference(path, name, name in env))
        return env.get(name)
    if isinstance(value, Mapping):
        return {str(k): _resolve(v, env, (*path, str(k)), found) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env, (*path, i), found) for i, v in enumerate(value)]
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
    references: list[EnvReference] = field(default_factory=list)
    # 1-based line of each key path in the file (empty when built from a mapping)
    lines: dict[KeyPath, int] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "<config>"

    def section(self, name: str) -> Any:
        return self.data.get(name)

    @property
    def missing(self) -> list[MissingVariable]:
        return [MissingVariable(r.path, r.name) for r in self.references if not r.is_set]

    def missing_warnings(self) -> list[str]:
        return [
            f"{format_key_path(m.path)}: environment variable {m.name} is not set"
            for m in self.missing
        ]


def read_yaml(path: Path) -> Any:
    """The parsed file (`{}` when empty); unreadable or invalid YAML is a ConfigError."""
    return _parse(path, _read_text(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def _parse(path: Path, text: str) -> Any:
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc


def read_document(
    path: str | Path | None, environ: Mapping[str, str] | None = None
) -> ConfigDocument:
    """Read `path` (an empty document when None) and resolve it against `environ`."""
    if path is None:
        return document_from_mapping({}, environ=environ)
    source = Path(path)
    text = _read_text(source)
    document = document_from_mapping(_parse(source, text), source=source, environ=environ)
    document.lines = key_lines(text)
    return document


def document_from_mapping(
    raw: Any, *, source: Path | None = None, environ: Mapping[str, str] | None = None
) -> ConfigDocument:
    where = str(source) if source is not None else "<config>"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level, got {kind_of(raw)}")
    env = declared_environment(raw, os.environ if environ is None else environ)
    resolved, references = resolve_all(raw, env)
    return ConfigDocument(path=source, data=resolved, environ=env, references=references)
