"""A LiteLLM `config.yaml` that mixes `anthropic/`, `gemini/`, `azure/` and `ollama/` entries, as
LiteLLM's docs write them, loads unchanged and every deployment gets a provider."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway.app import build_state
from gateway.config import load_config

LITELLM_CONFIG = """
model_list:
  - model_name: claude-sonnet
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: os.environ/ANTHROPIC_API_KEY
  - model_name: gemini-flash
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_key: os.environ/GEMINI_API_KEY
      rpm: 60
  - model_name: gpt-4o
    litellm_params:
      model: azure/my-gpt4o-deployment
      api_base: os.environ/AZURE_API_BASE
      api_key: os.environ/AZURE_API_KEY
      api_version: "2024-10-21"
    model_info:
      mode: chat
  - model_name: llama3
    litellm_params:
      model: ollama/llama3
  - model_name: llama3-chat
    litellm_params:
      model: ollama_chat/llama3.1
      api_base: http://127.0.0.1:11434
  - model_name: embed
    litellm_params:
      model: gemini/text-embedding-004
      api_key: os.environ/GEMINI_API_KEY

router_settings:
  routing_strategy: simple-shuffle

litellm_settings:
  drop_params: true
"""


@pytest.mark.anyio
async def test_mixed_litellm_config_loads_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(LITELLM_CONFIG)
    environ = {
        "ANTHROPIC_API_KEY": "a",
        "GEMINI_API_KEY": "g",
        "AZURE_API_BASE": "https://example-resource.openai.azure.com",
        "AZURE_API_KEY": "z",
    }
    config = load_config(path, environ=environ)
    assert config.warnings == []
    async with httpx.AsyncClient() as http:
        state = build_state(config, http)
        providers = {d.provider for name in state.groups.names() for d in state.groups.get(name)}
    assert providers == {"anthropic", "gemini", "azure", "ollama", "ollama_chat"}
    for provider in providers:
        assert state.providers.known(provider)
        assert state.providers.get(provider) is state.providers.get(provider)
    azure = state.groups.get("gpt-4o")[0]
    assert (azure.model, azure.api_version) == ("my-gpt4o-deployment", "2024-10-21")
