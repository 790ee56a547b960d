from __future__ import annotations

from pathlib import Path

import pytest

from common.config.report import Verdict
from gateway.config import ConfigError, load_config

LITELLM_CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/TEST_OPENAI_KEY
      rpm: 100
      temperature: 0.2
  - model_name: local
    litellm_params:
      model: hosted_vllm/llama
      api_base: http://127.0.0.1:8000/v1
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
litellm_settings:
  drop_params: true
general_settings:
  master_key: sk-from-file
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_litellm_config_resolves_env_and_keeps_request_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, LITELLM_CONFIG), environ={"TEST_OPENAI_KEY": "sk-upstream"}
    )
    first = config.file.model_list[0].litellm_params
    assert first.api_key == "sk-upstream"
    assert first.rpm == 100
    assert config.master_key == "sk-from-file"
    assert config.file.litellm_settings.drop_params is True
    assert config.warnings == []  # temperature is a request default, not an unknown key


def test_env_overrides_win_over_the_file(tmp_path: Path) -> None:
    env = {
        "TEST_OPENAI_KEY": "x",
        "LITELLM_MASTER_KEY": "sk-env",
        "DATABASE_URL": "postgresql://db/x",
        "REDIS_URL": "redis://cache:6379/1",
    }
    config = load_config(write(tmp_path, LITELLM_CONFIG), environ=env)
    assert config.master_key == "sk-env"
    assert config.file.general_settings.database_url == "postgresql://db/x"
    assert config.redis_url == "redis://cache:6379/1"


def test_redis_url_built_from_router_settings(tmp_path: Path) -> None:
    text = "router_settings:\n  redis_host: 127.0.0.1\n  redis_port: 6380\n  redis_password: pw\n"
    config = load_config(write(tmp_path, text), environ={})
    assert config.redis_url == "redis://:pw@127.0.0.1:6380/0"


def test_missing_env_variable_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, LITELLM_CONFIG), environ={})
    assert config.file.model_list[0].litellm_params.api_key is None
    assert config.warnings == [
        "model_list[0].litellm_params.api_key: environment variable TEST_OPENAI_KEY is not set"
    ]


def test_environment_variables_section_feeds_references(tmp_path: Path) -> None:
    text = LITELLM_CONFIG + "environment_variables:\n  TEST_OPENAI_KEY: sk-declared\n"
    config = load_config(write(tmp_path, text), environ={})
    assert config.file.model_list[0].litellm_params.api_key == "sk-declared"


def test_unknown_keys_are_warned_with_their_path(tmp_path: Path) -> None:
    text = """
model_list:
  - model_name: a
    litellm_params: {model: openai/a, not_a_litellm_param: x}
general_settings: {master_key: k, disable_spend_logs_x: true}
alerting_settings: {}
"""
    config = load_config(write(tmp_path, text), environ={})
    assert sorted(config.warnings) == [
        "alerting_settings: unknown key, ignored",
        "general_settings.disable_spend_logs_x: unknown key, ignored",
        "model_list[0].litellm_params.not_a_litellm_param: unknown key, ignored",
    ]


def test_provider_settings_are_read_not_warned(tmp_path: Path) -> None:
    text = """
model_list:
  - model_name: g
    litellm_params:
      model: vertex_ai/gemini-2.0-flash
      vertex_project: p
      vertex_location: europe-west4
      vertex_credentials: /etc/keys/vertex.json
"""
    config = load_config(write(tmp_path, text), environ={})
    assert config.warnings == []
    honoured = {f.path: f.message for f in config.findings if f.verdict is Verdict.HONOURED}
    assert honoured["model_list[0].litellm_params.vertex_project"].startswith("vertex_ai/")
    assert "model_list[0].litellm_params.vertex_credentials" in honoured


def test_bad_value_names_file_path_and_expectation(tmp_path: Path) -> None:
    text = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, rpm: lots}\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert str(path) in message
    assert "model_list[0].litellm_params.rpm" in message
    assert "valid integer" in message
    assert "'lots'" in message


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "model_list:\n  - litellm_params: {model: openai/a}\n")
    with pytest.raises(ConfigError, match=r"model_list\[0\]\.model_name: field required"):
        load_config(path, environ={})


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(write(tmp_path, "model_list: [\n"), environ={})
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml", environ={})
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got a list"):
        load_config(write(tmp_path, "- a\n- b\n"), environ={})


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), environ={})
    assert config.file.model_list == []
    assert config.master_key is None


def test_spend_header_and_retry_settings_are_honoured(tmp_path: Path) -> None:
    """Once ignored; now acted on (see their tests), so the check names them honoured, and a
    misspelt retry-policy field as unknown."""
    text = """
router_settings:
  retry_policy: {BadRequestErrorRetries: 2, RateLimitErrorRetry: 1}
  model_group_retry_policy: {g: {TimeoutErrorRetries: 0}}
general_settings:
  disable_spend_logs: true
  store_prompts_in_spend_logs: true
  forward_client_headers_to_llm_api: true
"""
    config = load_config(write(tmp_path, text), environ={})
    verdicts = {f.path: f.verdict for f in config.findings}
    for path in (
        "router_settings.retry_policy",
        "router_settings.model_group_retry_policy",
        "general_settings.disable_spend_logs",
        "general_settings.store_prompts_in_spend_logs",
        "general_settings.forward_client_headers_to_llm_api",
    ):
        assert verdicts[path] is Verdict.HONOURED, path
    assert verdicts["router_settings.retry_policy.RateLimitErrorRetry"] is Verdict.UNKNOWN
    assert config.warnings == [
        "router_settings.retry_policy.RateLimitErrorRetry: unknown key, ignored"
    ]
    policy = config.file.router_settings.model_group_retry_policy["g"]
    assert policy.TimeoutErrorRetries == 0
