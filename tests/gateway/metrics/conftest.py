"""Gateway processes for the metrics tests, and a small reader for the exposition text."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY

INPUT_PRICE = 0.001
OUTPUT_PRICE = 0.002


def metrics_config(upstream_url: str, **litellm_settings: Any) -> dict[str, Any]:
    def entry(name: str, model: str, **extra: Any) -> dict[str, Any]:
        params = {"model": f"openai/{model}", "api_base": f"{upstream_url}/v1"}
        return {"model_name": name, "litellm_params": {**params, "api_key": UPSTREAM_KEY, **extra}}

    return {
        "model_list": [
            entry(
                "gpt-echo",
                "echo",
                input_cost_per_token=INPUT_PRICE,
                output_cost_per_token=OUTPUT_PRICE,
            ),
            entry("gpt-slow", "echo+latency-150"),
            entry("err-500", "error-500"),
            entry("err-429", "error-429"),
            entry("err-backup", "error-503"),
        ],
        # The fallback makes cooling err-429's only deployment worthwhile (see the router).
        "router_settings": {
            "num_retries": 0,
            "cooldown_time": 300,
            "fallbacks": [{"err-429": ["err-backup"]}, {"err-500": ["err-backup"]}],
        },
        # the error models have no price; the budgeted key of the tests still calls them
        "general_settings": {"master_key": MASTER_KEY, "allow_unpriced_models": True},
        "litellm_settings": litellm_settings,
    }


def scrape(base_url: str, key: str | None = MASTER_KEY) -> str:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample_values(text: str, sample_name: str, **labels: str) -> list[float]:
    """Every sample called `sample_name` whose labels include `labels`."""
    found: list[float] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name != sample_name:
                continue
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                found.append(sample.value)
    return found


def total(text: str, sample_name: str, **labels: str) -> float:
    return sum(sample_values(text, sample_name, **labels))
