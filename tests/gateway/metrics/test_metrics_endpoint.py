"""`/metrics` after known traffic through one gateway process: counts, tokens, spend, budgets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.gateway.conftest import MASTER_KEY, start_gateway
from tests.gateway.metrics.conftest import (
    INPUT_PRICE,
    OUTPUT_PRICE,
    metrics_config,
    sample_values,
    scrape,
    total,
)
from tests.support.processes import ServiceProcess

USER = [{"role": "user", "content": "metrics please"}]


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    service = start_gateway(
        metrics_config(fake_upstream.url), tmp_path_factory.mktemp("metrics"), service_log_dir
    )
    yield service
    service.stop()


@pytest.fixture(scope="module")
def traffic(gateway: ServiceProcess) -> dict[str, float]:
    """Known traffic with one virtual key; returns what the client saw."""
    generated = httpx.post(
        f"{gateway.url}/key/generate",
        headers={"authorization": f"Bearer {MASTER_KEY}"},
        json={"key_alias": "metrics-key", "max_budget": 10.0},
        timeout=10,
    )
    generated.raise_for_status()
    key = generated.json()["key"]
    seen = {"prompt": 0.0, "completion": 0.0}
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as client:
        for _ in range(3):
            reply = client.chat.completions.create(model="gpt-echo", messages=USER)  # type: ignore[arg-type]
            assert reply.usage is not None
            seen["prompt"] += reply.usage.prompt_tokens
            seen["completion"] += reply.usage.completion_tokens
        chunks = list(
            client.chat.completions.create(
                model="gpt-echo",
                messages=USER,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        usage = chunks[-1].usage
        assert usage is not None
        seen["prompt"] += usage.prompt_tokens
        seen["completion"] += usage.completion_tokens
        for _ in range(2):
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model="err-500", messages=USER)  # type: ignore[arg-type]
        with pytest.raises(openai.RateLimitError):  # a 429 cools its deployment at once
            client.chat.completions.create(model="err-429", messages=USER)  # type: ignore[arg-type]
    seen["spend"] = seen["prompt"] * INPUT_PRICE + seen["completion"] * OUTPUT_PRICE
    seen["minute"] = time.time() // 60
    return seen


@pytest.fixture(scope="module")
def exposition(gateway: ServiceProcess, traffic: dict[str, float]) -> str:
    text = scrape(gateway.url)
    traffic["scraped_minute"] = time.time() // 60
    return text


KEY = {"api_key_alias": "metrics-key"}


def test_request_counts(exposition: str) -> None:
    ok = total(
        exposition,
        "litellm_proxy_total_requests_metric_total",
        requested_model="gpt-echo",
        status_code="200",
        **KEY,
    )
    assert ok == 4
    failed = total(
        exposition,
        "litellm_proxy_total_requests_metric_total",
        requested_model="err-500",
        status_code="500",
        **KEY,
    )
    assert failed == 2
    failures = sample_values(
        exposition,
        "litellm_proxy_failed_requests_metric_total",
        requested_model="err-500",
        exception_status="500",
        **KEY,
    )
    assert sum(failures) == 2


def test_latency_histograms(exposition: str) -> None:
    assert (
        total(exposition, "litellm_request_total_latency_metric_count", requested_model="gpt-echo")
        == 4
    )
    assert (
        total(exposition, "litellm_llm_api_latency_metric_count", requested_model="gpt-echo") == 4
    )
    assert (
        total(exposition, "litellm_overhead_latency_metric_count", requested_model="gpt-echo") == 3
    )
    assert total(exposition, "litellm_llm_api_time_to_first_token_metric_count", model="echo") == 1
    assert (
        total(exposition, "litellm_request_total_latency_metric_sum", requested_model="gpt-echo")
        > 0
    )


def test_tokens_and_spend(exposition: str, traffic: dict[str, float]) -> None:
    tokens = {"requested_model": "gpt-echo", **KEY}
    assert total(exposition, "litellm_input_tokens_metric_total", **tokens) == traffic["prompt"]
    assert (
        total(exposition, "litellm_output_tokens_metric_total", **tokens) == traffic["completion"]
    )
    spend = total(exposition, "litellm_spend_metric_total", model="echo", **KEY)
    assert spend == pytest.approx(traffic["spend"])


def test_key_budget_gauges(exposition: str, traffic: dict[str, float]) -> None:
    assert sample_values(exposition, "litellm_api_key_max_budget_metric", **KEY) == [10.0]
    remaining = sample_values(exposition, "litellm_remaining_api_key_budget_metric", **KEY)
    assert remaining == [pytest.approx(10.0 - traffic["spend"])]


def test_deployment_counters_and_in_flight(exposition: str) -> None:
    labels = {"requested_model": "gpt-echo", "api_provider": "openai", "litellm_model_name": "echo"}
    assert total(exposition, "litellm_deployment_success_responses_total", **labels) == 4
    assert (
        total(exposition, "litellm_deployment_failure_responses_total", requested_model="err-500")
        == 2
    )
    assert total(exposition, "litellm_in_flight_requests") == 0


def test_metrics_need_a_key_by_default(gateway: ServiceProcess) -> None:
    assert httpx.get(f"{gateway.url}/metrics", timeout=10).status_code == 401
    assert (
        httpx.get(
            f"{gateway.url}/metrics/", timeout=10, headers={"authorization": f"Bearer {MASTER_KEY}"}
        ).status_code
        == 200
    )


def test_deployment_state_and_cooldowns(exposition: str, traffic: dict[str, float]) -> None:
    def state(model: str) -> list[float]:
        return sample_values(exposition, "litellm_deployment_state", litellm_model_name=model)

    assert state("echo") == [0.0]
    if traffic["scraped_minute"] == traffic["minute"]:  # failures count per minute
        assert state("error-500") == [1.0]  # failed, but not (yet) cooled down
    assert state("error-429") == [2.0]
    cooled = sample_values(
        exposition,
        "litellm_deployment_cooled_down_total",
        litellm_model_name="error-429",
        exception_status="429",
        api_provider="openai",
    )
    assert cooled == [1.0]
