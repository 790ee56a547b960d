from __future__ import annotations

from pathlib import Path

import pytest

from common.config import ConfigError, document_from_mapping, read_document
from middleware.settings import check_middleware, settings_from_config


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


def test_config_check_findings_name_middleware_paths_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("middleware_settings:\n  max_iterations: 0\n")
    [finding] = check_middleware(read_document(path, {}))
    assert (finding.path, finding.line, finding.fatal) == (
        "middleware_settings.max_iterations",
        2,
        True,
    )
    path.write_text("mcp_servers:\n  x: {transport: sse}\n")
    [finding] = check_middleware(read_document(path, {}))
    assert (finding.path, finding.message) == ("mcp_servers.x.url", "required for sse")
    path.write_text(
        "middleware_settings:\n  max_iterations: 2\n  colour: blue\n"
        "mcp_servers:\n  x: {url: 'http://127.0.0.1:1/mcp', description: d, typo: 1}\n"
    )
    found = {(f.verdict.value, f.path) for f in check_middleware(read_document(path, {}))}
    assert found == {
        ("honoured", "middleware_settings.max_iterations"),
        ("unknown", "middleware_settings.colour"),
        ("honoured", "mcp_servers.x"),
        ("ignored", "mcp_servers.x.description"),
        ("unknown", "mcp_servers.x.typo"),
    }
