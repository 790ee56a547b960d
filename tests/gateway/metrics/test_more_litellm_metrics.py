"""The LiteLLM metric names added for dashboards (cache misses and cached tokens,
fallbacks, latency per output token, queue time, key limits, team and user budgets), each
read from `/metrics` after traffic that moves it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from gateway.limits.calendar import next_reset_at
from tests.gateway.conftest import MASTER_KEY, start_gateway
from tests.gateway.metrics.conftest import metrics_config, sample_values, scrape, total
from tests.support.processes import ServiceProcess

USER = [{"role": "user", "content": "more metrics"}]
TEAM_BUDGET, USER_BUDGET = 50.0, 20.0


def _admin(gateway: ServiceProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{gateway.url}{path}",
        headers={"authorization": f"Bearer {MASTER_KEY}"},
        json=body,
        timeout=10,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    config = metrics_config(fake_upstream.url, cache=True)
    service = start_gateway(config, tmp_path_factory.mktemp("more-metrics"), service_log_dir)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def exposition(gateway: ServiceProcess) -> str:
    team = _admin(
        gateway,
        "/team/new",
        {"team_alias": "dash-team", "max_budget": TEAM_BUDGET, "budget_duration": "30d"},
    )
    _admin(
        gateway,
        "/user/new",
        {"user_id": "dash-user", "max_budget": USER_BUDGET, "budget_duration": "7d"},
    )
    key = _admin(
        gateway,
        "/key/generate",
        {
            "key_alias": "dash-key",
            "team_id": team["team_id"],
            "user_id": "dash-user",
            "rpm_limit": 100,
            "tpm_limit": 100000,
        },
    )["key"]
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0) as client:
        first = client.chat.completions.create(model="gpt-echo", messages=USER)  # type: ignore[arg-type]
        second = client.chat.completions.create(model="gpt-echo", messages=USER)  # type: ignore[arg-type]
        assert second.choices[0].message.content == first.choices[0].message.content
        # err-500's only deployment fails; its fallback err-backup fails too.
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(model="err-500", messages=USER)  # type: ignore[arg-type]
        # A per-request fallback to a healthy group answers.
        reply = client.chat.completions.create(
            model="err-500",
            messages=[{"role": "user", "content": "fallback please"}],
            extra_body={"fallbacks": ["gpt-echo"]},
        )
        assert reply.choices[0].message.content
    assert first.usage is not None
    return scrape(gateway.url)


def test_cache_misses_and_cached_tokens(exposition: str) -> None:
    labels = {"api_key_alias": "dash-key", "team_alias": "dash-team"}
    # The first call and the err-500 calls missed (a miss is counted per looked-up request);
    # the second call hit.
    assert total(exposition, "litellm_cache_misses_metric_total", **labels) >= 2
    assert total(exposition, "litellm_cache_hits_metric_total", **labels) == 1
    hit_tokens = total(exposition, "litellm_cached_tokens_metric_total", **labels)
    assert hit_tokens > 0
    # The cached answer's tokens are the first call's (same request, same usage).
    served = total(exposition, "litellm_input_tokens_metric_total", api_key_alias="dash-key")
    assert hit_tokens <= served


def test_fallback_counters(exposition: str) -> None:
    failed = sample_values(
        exposition,
        "litellm_deployment_failed_fallbacks_total",
        requested_model="err-500",
        fallback_model="err-backup",
        api_key_alias="dash-key",
        team_alias="dash-team",
        exception_status="500",
    )
    assert failed == [1.0]
    succeeded = sample_values(
        exposition,
        "litellm_deployment_successful_fallbacks_total",
        requested_model="err-500",
        fallback_model="gpt-echo",
        api_key_alias="dash-key",
    )
    assert succeeded == [1.0]


def test_latency_per_output_token_and_queue_time(exposition: str) -> None:
    per_token = total(
        exposition,
        "litellm_deployment_latency_per_output_token_count",
        litellm_model_name="echo",
        api_key_alias="dash-key",
    )
    assert per_token >= 2  # the first gpt-echo call and the fallback's answer
    queued = total(exposition, "litellm_request_queue_time_seconds_count", api_key_alias="dash-key")
    assert queued == 4  # every request that reached the hooks


def test_key_limit_gauges(exposition: str) -> None:
    requests = sample_values(
        exposition,
        "litellm_remaining_api_key_requests_for_model",
        api_key_alias="dash-key",
        model="gpt-echo",
    )
    assert requests and 0 <= requests[0] < 100
    tokens = sample_values(
        exposition,
        "litellm_remaining_api_key_tokens_for_model",
        api_key_alias="dash-key",
        model="gpt-echo",
    )
    assert tokens and 0 < tokens[0] < 100000


def test_team_and_user_budget_gauges(exposition: str) -> None:
    team = {"team_alias": "dash-team"}
    assert sample_values(exposition, "litellm_team_max_budget_metric", **team) == [TEAM_BUDGET]
    (remaining,) = sample_values(exposition, "litellm_remaining_team_budget_metric", **team)
    assert 0 < remaining <= TEAM_BUDGET
    (hours,) = sample_values(exposition, "litellm_team_budget_remaining_hours_metric", **team)
    assert hours == pytest.approx(_hours_until_reset("30d"), abs=0.25)
    user = {"user": "dash-user"}
    assert sample_values(exposition, "litellm_user_max_budget_metric", **user) == [USER_BUDGET]
    (left,) = sample_values(exposition, "litellm_remaining_user_budget_metric", **user)
    assert 0 < left <= USER_BUDGET
    (user_hours,) = sample_values(exposition, "litellm_user_budget_remaining_hours_metric", **user)
    assert user_hours == pytest.approx(_hours_until_reset("7d"), abs=0.25)


def _hours_until_reset(duration: str) -> float:
    # LiteLLM's calendar windows (30d: the 1st of next month, 7d: next Monday, UTC);
    # the calendar itself is tested in tests/gateway/limits/test_calendar.py
    now = datetime.now(UTC)
    return (next_reset_at(duration, now) - now).total_seconds() / 3600
