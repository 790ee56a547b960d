"""Read one MCP server's settings from the shared toolrelay/LiteLLM config YAML.

The section is `mcp_server_settings.<name>`. Any string value `os.environ/NAME` is replaced
by that environment variable. Every error is a `ConfigError` naming the file and key path.
`ServerSettings` holds the keys every server shares; `parse_settings` validates a section.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import (
    ConfigError as CommonConfigError,
)
from common.config import (
    format_key_path,
    read_yaml,
    resolve_references,
    validation_problems,
)

logger = structlog.get_logger(__name__)

SECTION = "mcp_server_settings"
SettingsT = TypeVar("SettingsT", bound="ServerSettings")


class ConfigError(CommonConfigError, ValueError):
    """The config file is unreadable, malformed, or refers to a missing environment variable."""


def load_server_settings(name: str, config_path: str | None) -> dict[str, Any]:
    """The `mcp_server_settings.<name>` section, with `os.environ/NAME` values resolved.

    No path, a missing file, or a missing section give `{}`.
    """
    if config_path is None:
        return {}
    path = Path(config_path)
    if not path.is_file():
        logger.warning("config file not found; using defaults", path=str(path), server=name)
        return {}
    try:
        document = read_yaml(path)
    except CommonConfigError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    all_servers = document.get(SECTION)
    if all_servers is None:
        return {}
    if not isinstance(all_servers, Mapping):
        raise ConfigError(f"{path}: {SECTION}: expected a mapping of server name to settings")
    section = all_servers.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: {SECTION}.{name}: expected a mapping of settings")
    resolved, missing = resolve_references(section, os.environ, (SECTION, name))
    if missing:
        first = missing[0]
        raise ConfigError(
            f"{path}: {format_key_path(first.path)}: environment variable {first.name!r} is not set"
        )
    assert isinstance(resolved, dict)
    return resolved


class ServerSettings(BaseModel):
    """Keys common to every server; each server subclasses this with its own."""

    model_config = ConfigDict(extra="allow", frozen=True)

    host: str = "127.0.0.1"
    port: int | None = None
    auth_token: str | None = None
    config_path: str | None = Field(
        default=None, description="The config file the settings came from (set by the CLI)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header values accepted besides loopback, e.g. 'fetch:8111'; '*' for any.",
    )


def parse_settings(model: type[SettingsT], name: str, raw: Mapping[str, Any]) -> SettingsT:
    """Validate `raw`; unknown keys are logged and ignored, bad values raise ConfigError."""
    try:
        settings = model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = validation_problems(exc, f"{SECTION}.{name}")
        raise ConfigError("; ".join(problems)) from None
    for key in settings.model_extra or {}:
        logger.warning("unknown setting ignored", server=name, key=key)
    return settings
