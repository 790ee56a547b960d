"""Configuration: LiteLLM's config.yaml format, plus toolrelay's own sections."""

from gateway.config.loader import ConfigError, LoadedConfig, config_from_mapping, load_config
from gateway.config.schema import ConfigFile, ModelEntry

__all__ = [
    "ConfigError",
    "ConfigFile",
    "LoadedConfig",
    "ModelEntry",
    "config_from_mapping",
    "load_config",
]
