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
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = structlog.get_logger(__name__)

SECTION = "mcp_server_settings"
ENV_PREFIX = "os.environ/"
SettingsT = TypeVar("SettingsT", bound="ServerSettings")


class ConfigError(ValueError):
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
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if document is None:
        return {}
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
    key_path = f"{SECTION}.{name}"
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: {key_path}: expected a mapping of settings")
    resolved = _resolve(section, path, key_path)
    assert isinstance(resolved, dict)
    return resolved


def _resolve(value: Any, path: Path, key_path: str) -> Any:
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        variable = value[len(ENV_PREFIX) :]
        if variable not in os.environ:
            raise ConfigError(f"{path}: {key_path}: environment variable {variable!r} is not set")
        return os.environ[variable]
    if isinstance(value, Mapping):
        return {str(k): _resolve(v, path, f"{key_path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(item, path, f"{key_path}[{i}]") for i, item in enumerate(value)]
    return value


class ServerSettings(BaseModel):
    """Keys common to every server; each server subclasses this with its own."""

    model_config = ConfigDict(extra="allow", frozen=True)

    host: str = "127.0.0.1"
    port: int | None = None
    auth_token: str | None = None
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header values accepted besides loopback, e.g. 'fetch:8111'; '*' for any.",
    )


def parse_settings(model: type[SettingsT], name: str, raw: Mapping[str, Any]) -> SettingsT:
    """Validate `raw`; unknown keys are logged and ignored, bad values raise ConfigError."""
    try:
        settings = model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"mcp_server_settings.{name}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(problems) from None
    for key in settings.model_extra or {}:
        logger.warning("unknown setting ignored", server=name, key=key)
    return settings
