"""Reading `mcp_server_settings.<name>` from the shared config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_servers._config import ConfigError, ServerSettings, load_server_settings, parse_settings


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_section_with_environment_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FETCH_TOKEN", "tok-123")
    config = write(
        tmp_path,
        """
model_list: []
mcp_server_settings:
  fetch:
    auth_token: os.environ/FETCH_TOKEN
    allow_hosts: [minio, 10.0.0.0/8]
    nested: {inner: [os.environ/FETCH_TOKEN]}
  browser: {max_contexts: 2}
""",
    )
    assert load_server_settings("fetch", config) == {
        "auth_token": "tok-123",
        "allow_hosts": ["minio", "10.0.0.0/8"],
        "nested": {"inner": ["tok-123"]},
    }


@pytest.mark.parametrize(
    "text", ["", "model_list: []\n", "mcp_server_settings:\n  other: {a: 1}\n"]
)
def test_missing_section_is_empty(tmp_path: Path, text: str) -> None:
    assert load_server_settings("fetch", write(tmp_path, text)) == {}


def test_no_file_is_empty(tmp_path: Path) -> None:
    assert load_server_settings("fetch", None) == {}
    assert load_server_settings("fetch", str(tmp_path / "absent.yaml")) == {}


def test_missing_environment_variable_names_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    config = write(
        tmp_path, "mcp_server_settings:\n  fetch:\n    headers: [os.environ/NOT_SET_ANYWHERE]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_server_settings("fetch", config)
    message = str(info.value)
    assert config in message
    assert "mcp_server_settings.fetch.headers[0]" in message
    assert "NOT_SET_ANYWHERE" in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("mcp_server_settings: [1, 2]\n", "mcp_server_settings"),
        ("mcp_server_settings:\n  fetch: 3\n", "mcp_server_settings.fetch"),
        ("key: [unclosed\n", "invalid YAML"),
        ("- a list\n", "top level"),
    ],
)
def test_malformed_config_is_a_clear_error(tmp_path: Path, text: str, where: str) -> None:
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_server_settings("fetch", config)
    assert config in str(info.value)
    assert where in str(info.value)


def test_bad_setting_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"mcp_server_settings\.fetch\.port"):
        parse_settings(ServerSettings, "fetch", {"port": "not a port"})


def test_unknown_setting_is_ignored() -> None:
    settings = parse_settings(ServerSettings, "fetch", {"colour": "blue", "host": "0.0.0.0"})
    assert settings.host == "0.0.0.0"
