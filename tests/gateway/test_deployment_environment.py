"""A deployment without `api_key` (or Azure's base and version) takes them from the provider's
standard environment variable when it is built, and remembers the variable's name only."""

from __future__ import annotations

from typing import Any

from gateway.config.schema import ModelEntry
from gateway.deployments import (
    Deployment,
    deployment_from_entry,
    environment_summary,
    inference_summary,
)


def _deployment(environ: dict[str, str], **params: Any) -> Deployment:
    entry = ModelEntry.model_validate({"model_name": "m", "litellm_params": params})
    return deployment_from_entry(entry, 0, environ)


def test_a_bare_claude_takes_the_anthropic_key() -> None:
    environ = {"ANTHROPIC_API_KEY": "sk-ant-1", "OPENAI_API_KEY": "sk-oai-1"}
    deployment = _deployment(environ, model="claude-3-5-sonnet-20241022")
    assert (deployment.provider, deployment.api_key) == ("anthropic", "sk-ant-1")
    assert deployment.provider_inferred
    assert deployment.from_environment == {"api_key": "ANTHROPIC_API_KEY"}


def test_a_key_in_the_config_wins() -> None:
    deployment = _deployment({"OPENAI_API_KEY": "sk-env"}, model="gpt-4o", api_key="sk-file")
    assert deployment.api_key == "sk-file"
    assert deployment.from_environment == {}


def test_gemini_prefers_gemini_api_key_then_google_api_key() -> None:
    both = {"GEMINI_API_KEY": "g-1", "GOOGLE_API_KEY": "g-2"}
    assert _deployment(both, model="gemini/gemini-2.0-flash").api_key == "g-1"
    google_only = _deployment({"GOOGLE_API_KEY": "g-2"}, model="gemini-2.0-flash")
    assert google_only.api_key == "g-2"
    assert google_only.from_environment == {"api_key": "GOOGLE_API_KEY"}


def test_azure_takes_key_base_and_version() -> None:
    environ = {
        "AZURE_API_KEY": "az-1",
        "AZURE_API_BASE": "https://r.openai.azure.com/",
        "AZURE_API_VERSION": "2024-10-21",
    }
    deployment = _deployment(environ, model="azure/my-deployment")
    assert deployment.api_key == "az-1"
    assert deployment.api_base == "https://r.openai.azure.com"
    assert deployment.api_version == "2024-10-21"
    given = _deployment(environ, model="azure/d", api_base="https://mine", api_version="v1")
    assert (given.api_base, given.api_version) == ("https://mine", "v1")
    assert given.from_environment == {"api_key": "AZURE_API_KEY"}


def test_openai_compatible_hosts_use_their_own_variable() -> None:
    environ = {"GROQ_API_KEY": "gq", "OPENAI_API_KEY": "oai", "TOGETHERAI_API_KEY": "tg"}
    assert _deployment(environ, model="groq/llama-3.1-8b-instant").api_key == "gq"
    assert _deployment(environ, model="together_ai/x").api_key == "tg"
    assert _deployment(environ, model="openrouter/x").api_key is None


def test_providers_with_their_own_environment_are_left_alone() -> None:
    # cohere reads COHERE_API_KEY itself; ollama needs no key
    environ = {"COHERE_API_KEY": "co", "OPENAI_API_KEY": "oai"}
    assert _deployment(environ, model="command-r-plus").from_environment == {}
    assert _deployment(environ, model="ollama/llama3").api_key is None


def test_an_unset_or_empty_variable_gives_nothing() -> None:
    deployment = _deployment({"ANTHROPIC_API_KEY": ""}, model="claude-3-haiku")
    assert deployment.api_key is None and deployment.from_environment == {}


def test_the_start_up_summaries_name_variables_never_values() -> None:
    environ = {"ANTHROPIC_API_KEY": "sk-ant-secret-value"}
    deployments = [
        _deployment(environ, model="claude-3-5-sonnet-20241022"),
        _deployment(environ, model="anthropic/claude-3-haiku", api_key="sk-file"),
        _deployment(environ, model="my-local-model"),
    ]
    assert inference_summary(deployments) == "claude-3-5-sonnet-20241022 -> anthropic"
    summary = environment_summary(deployments)
    assert summary == "m (anthropic): api_key from ANTHROPIC_API_KEY"
    assert inference_summary(deployments[1:]) is None
    assert environment_summary(deployments[1:]) is None
