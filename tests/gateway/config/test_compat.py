"""LiteLLM's tolerances: config shapes LiteLLM starts with load here too, each reshaped or
dropped value named by its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import document_from_mapping, read_document
from common.config.errors import ConfigError
from gateway.config import config_from_mapping, load_config
from gateway.deployments import deployment_from_entry
from middleware.settings import settings_from_config

MODELS = [
    {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}},
    {"model_name": "claude", "litellm_params": {"model": "anthropic/claude-3-5-sonnet"}},
]


def test_list_of_names_is_a_fallback_for_every_group() -> None:
    config = config_from_mapping(
        {"model_list": MODELS, "router_settings": {"fallbacks": ["claude"]}}, environ={}
    )
    assert config.file.router_settings.fallbacks == [{"*": ["claude"]}]
    assert config.warnings == []


def test_model_name_form_is_dropped_with_a_warning_and_the_rest_works() -> None:
    raw = {
        "model_list": MODELS,
        "router_settings": {
            "fallbacks": [
                {"model_name": "gpt-4o", "fallbacks": ["claude"]},
                {"claude": ["gpt-4o"]},
            ],
            "num_retries": 1,
        },
    }
    config = config_from_mapping(raw, environ={})
    assert config.file.router_settings.fallbacks == [{"claude": ["gpt-4o"]}]
    assert config.file.router_settings.num_retries == 1
    [warning] = config.warnings
    assert warning.startswith("router_settings.fallbacks[0]: ")
    assert "LiteLLM skips it at run time" in warning
    assert "- gpt-4o: ['claude']" in warning


def test_fallbacks_under_litellm_settings_apply_unless_router_settings_has_them() -> None:
    raw = {
        "model_list": MODELS,
        "litellm_settings": {
            "fallbacks": [{"gpt-4o": ["claude"]}],
            "context_window_fallbacks": [{"claude": ["gpt-4o"]}],
            "default_fallbacks": ["claude"],
        },
        "router_settings": {"context_window_fallbacks": [{"gpt-4o": ["claude"]}]},
    }
    config = config_from_mapping(raw, environ={})
    router = config.file.router_settings
    assert router.fallbacks == [{"gpt-4o": ["claude"]}, {"*": ["claude"]}]
    assert router.context_window_fallbacks == [{"gpt-4o": ["claude"]}]
    assert config.warnings == [
        "litellm_settings.context_window_fallbacks: "
        "router_settings.context_window_fallbacks wins; not used"
    ]


def test_misplaced_database_url_is_named_with_what_happens_instead() -> None:
    raw = {"litellm_settings": {"database_url": "postgresql://u:p@127.0.0.1/db"}}
    config = config_from_mapping(raw, environ={})
    assert config.file.general_settings.database_url is None
    [warning] = config.warnings
    assert warning.startswith("litellm_settings.database_url: LiteLLM does not read")
    assert "SQLite file" in warning
    assert "Move it to general_settings.database_url" in warning
    with_env = config_from_mapping(raw, environ={"DATABASE_URL": "postgresql://env/db"})
    assert "general_settings.database_url is used" in with_env.warnings[0]


def test_database_url_built_from_litellm_parts() -> None:
    environ = {
        "DATABASE_HOST": "db.internal:5433",
        "DATABASE_USERNAME": "proxy",
        "DATABASE_PASSWORD": "p@ss word",
        "DATABASE_NAME": "litellm",
    }
    config = config_from_mapping({}, environ=environ)
    assert (
        config.file.general_settings.database_url
        == "postgresql://proxy:p%40ss%20word@db.internal:5433/litellm"
    )


def test_numbers_in_environment_variables_are_strings() -> None:
    raw = {"environment_variables": {"REDIS_PORT": 6329}, "router_settings": {}}
    config = config_from_mapping(raw, environ={})
    assert config.file.environment_variables == {"REDIS_PORT": "6329"}


def test_thinking_and_other_forwarded_params_are_request_defaults() -> None:
    params = {
        "model": "anthropic/claude-sonnet-4-5",
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "reasoning_effort": "high",
        "top_k": 5,
        "not_a_litellm_param": "us-east-1",
    }
    config = config_from_mapping(
        {"model_list": [{"model_name": "c", "litellm_params": params}]}, environ={}
    )
    deployment = deployment_from_entry(config.file.model_list[0], 0)
    assert deployment.request_defaults == {
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "reasoning_effort": "high",
        "top_k": 5,
    }
    assert config.warnings == [
        "model_list[0].litellm_params.not_a_litellm_param: unknown key, ignored"
    ]


def test_unset_variable_under_mcp_server_env_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "mcp_servers:\n"
        "  github:\n"
        "    transport: stdio\n"
        "    command: npx\n"
        "    env:\n"
        "      TOKEN: os.environ/NOT_SET_FOR_THIS_TEST\n"
        "      MODE: plain\n"
    )
    config = load_config(path, environ={})
    assert config.warnings == []  # the gateway leaves mcp_servers to the middleware
    settings = settings_from_config(read_document(path, {}))
    assert settings.mcp_servers["github"].env == {"MODE": "plain"}
    [finding] = [f for f in settings.findings if f.needs_attention]
    assert finding.path == "mcp_servers.github.env.TOKEN"
    assert finding.line == 6
    assert "NOT_SET_FOR_THIS_TEST is not set" in finding.message
    assert not finding.fatal


def test_recognised_litellm_environment_variables_are_reported() -> None:
    environ = {
        "LITELLM_MODE": "PRODUCTION",
        "PROXY_BASE_URL": "x",
        "LITELLM_SALT_KEY": "s",
        "STORE_MODEL_IN_DB": "True",
        "REDIS_SOCKET_TIMEOUT": "1.5",
    }
    config = config_from_mapping({}, environ=environ)
    reported = {f.path: f for f in config.findings if f.path.startswith("env ")}
    assert set(reported) == {f"env {name}" for name in environ}
    ignored = {p for p, f in reported.items() if f.message.startswith("not used: ")}
    assert ignored == {"env LITELLM_MODE", "env PROXY_BASE_URL"}
    # the model store reads these two (gateway/model_store/): never reported as unused
    assert "database" in reported["env STORE_MODEL_IN_DB"].message
    assert "encrypts" in reported["env LITELLM_SALT_KEY"].message
    assert config.redis_timeout == 1.5
    assert document_from_mapping({}, environ=environ).data == {}


@pytest.mark.parametrize("value", ["0", "-1", "soon", "61"])
def test_a_redis_timeout_that_cannot_be_used_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="REDIS_SOCKET_TIMEOUT"):
        config_from_mapping({}, environ={"REDIS_SOCKET_TIMEOUT": value})
