"""The gateway starts on representative files of the config corpus (tests/config_corpus),
with their deployments pointed at the fake upstream, and behaves as LiteLLM would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.gateway.conftest import UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess

CORPUS = Path(__file__).resolve().parents[2] / "config_corpus"
MASTER_KEY = "sk-corpus-master"


def corpus_config(name: str, upstream: str, models: dict[str, str]) -> dict[str, Any]:
    """The corpus file with each listed group's deployments sent to the fake upstream."""
    config: dict[str, Any] = yaml.safe_load((CORPUS / name).read_text())
    for entry in config["model_list"]:
        target = models.get(entry["model_name"])
        if target is None:
            continue
        provider = entry["litellm_params"]["model"].partition("/")[0]
        entry["litellm_params"].update(
            model=f"{provider}/{target}",
            api_base=upstream if provider == "anthropic" else f"{upstream}/v1",
            api_key=UPSTREAM_KEY,
        )
    config.setdefault("general_settings", {})["master_key"] = MASTER_KEY
    return config


@pytest.fixture
def start(fake_upstream: ServiceProcess, tmp_path: Path, service_log_dir: Path) -> Iterator[Any]:
    started: list[ServiceProcess] = []

    def run(name: str, models: dict[str, str]) -> ServiceProcess:
        home = tmp_path / f"gw{len(started)}"
        home.mkdir()
        service = start_gateway(
            corpus_config(name, fake_upstream.url, models), home, service_log_dir
        )
        started.append(service)
        return service

    yield run
    for service in started:
        service.stop()


def chat(gateway: ServiceProcess, model: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def received(upstream: ServiceProcess, model: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{upstream.url}/__fake__/requests", params={"model": model})
    response.raise_for_status()
    return [entry["body"] for entry in response.json()["data"]]


def test_list_of_names_falls_back_for_every_group(start: Any) -> None:
    gateway = start(
        "issue19-fallbacks-list_of_names.yaml",
        {"gpt-4o": "error-500", "claude-3-5-sonnet-20241022": "fixed"},
    )
    response = chat(gateway, "gpt-4o")
    assert response.status_code == 200, response.text
    assert response.headers["x-litellm-attempted-fallbacks"] == "1"


def test_skipped_fallback_entry_is_reported_once_and_the_rest_works(start: Any) -> None:
    gateway = start(
        "issue19-fallbacks-model_name_form.yaml",
        {"gpt-4o": "fixed", "claude-3-5-sonnet-20241022": "fixed"},
    )
    assert chat(gateway, "gpt-4o").status_code == 200
    log = gateway.log()
    assert log.count("config report") == 1
    assert "router_settings.fallbacks[0] (line" in log
    assert "is not LiteLLM's `{model: [fallbacks]}` shape" in log


def test_thinking_default_reaches_the_provider(start: Any, fake_upstream: ServiceProcess) -> None:
    gateway = start(
        "issue19-thinking_and_mode.yaml",
        {"claude-thinking": "corpus-thinking", "o-reasoner": "corpus-reasoner"},
    )
    assert chat(gateway, "claude-thinking").status_code == 200
    assert chat(gateway, "o-reasoner").status_code == 200
    [anthropic_body] = received(fake_upstream, "corpus-thinking")
    assert anthropic_body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    [openai_body] = received(fake_upstream, "corpus-reasoner")
    assert openai_body["reasoning_effort"] == "high"


def test_docs_quick_start_starts_with_its_unsupported_providers(start: Any) -> None:
    gateway = start("litellm-docs-configs-quick_start.yaml", {"gpt-4o": "fixed"})
    models = httpx.get(
        f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {MASTER_KEY}"}
    ).json()
    assert {"gpt-4o", "bedrock-claude-v1", "vllm-models"} <= {m["id"] for m in models["data"]}
    assert chat(gateway, "gpt-4o").status_code == 200
    # bedrock/ is served; this entry names no region and no keys, which is a clear 400
    bedrock = chat(gateway, "bedrock-claude-v1")
    assert bedrock.status_code == 400
    assert bedrock.json()["error"]["code"] in ("missing_aws_region", "missing_aws_credentials")
