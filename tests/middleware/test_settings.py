from __future__ import annotations

import pytest

from common.config import ConfigError, document_from_mapping
from middleware.settings import settings_from_config


def test_defaults_and_sections() -> None:
    config = document_from_mapping(
        {
            "mcp_servers": {"pg": {"url": "http://127.0.0.1:8110/mcp"}},
            "middleware_settings": {"max_iterations": 4, "progress": False},
            "storage": {"backend": "s3", "endpoint": "http://127.0.0.1:9000"},
        }
    )
    settings = settings_from_config(config)
    assert settings.middleware.gateway_url == "http://127.0.0.1:4000"
    assert settings.middleware.max_iterations == 4
    assert settings.middleware.tool_timeout == 60
    assert settings.middleware.progress is False
    assert settings.mcp_servers["pg"].url == "http://127.0.0.1:8110/mcp"
    assert settings.storage.backend == "s3"


def test_bad_values_name_the_key() -> None:
    config = document_from_mapping({"middleware_settings": {"max_iterations": 0}})
    with pytest.raises(ConfigError, match=r"middleware_settings\.max_iterations"):
        settings_from_config(config)


def test_http_server_needs_a_url() -> None:
    config = document_from_mapping({"mcp_servers": {"x": {"transport": "sse"}}})
    with pytest.raises(ConfigError, match=r"mcp_servers\.x\.url"):
        settings_from_config(config)
