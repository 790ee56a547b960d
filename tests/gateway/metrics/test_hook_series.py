"""The metrics hook binds a call's label children once per caller, model group and
deployment: later calls of the same kind land in the same series, a failure still gets its
status and exception labels, and nothing creates a series it did not count in."""

from __future__ import annotations

import time

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.auth import Principal
from gateway.deployments import Deployment
from gateway.hooks import CallRecord
from gateway.metrics.definitions import GatewayMetrics
from gateway.metrics.hook import MetricsHook

PRINCIPAL = Principal(kind="virtual_key", is_admin=False, key_alias="alias", token="t" * 64)
DEPLOYMENT = Deployment(id="dep-1", model_name="m", provider="openai", model="gpt-x")


def _record(status: int) -> CallRecord:
    record = CallRecord(
        request_id="r", principal=PRINCIPAL, call_type="chat", model_group="m", body={}
    )
    record.deployment = DEPLOYMENT
    record.prompt_tokens, record.completion_tokens = 3, 4
    record.ended_at = time.time()
    if status != 200:
        record.status, record.http_status, record.error_type = "failure", status, "UpstreamError"
    return record


def _samples(metrics: GatewayMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **want: str
) -> float:
    found = [
        v
        for (n, labels), v in samples.items()
        if n == name and want.items() <= dict(labels).items()
    ]
    assert len(found) == 1, (name, want, found)
    return found[0]


@pytest.mark.anyio
async def test_calls_of_one_kind_share_series_and_failures_keep_their_labels() -> None:
    metrics = GatewayMetrics()
    hook = MetricsHook(metrics, cost=lambda _record: 0.5)
    for status in (200, 200, 502):
        record = _record(status)
        await hook.pre_call(record)
        await hook.post_call(record)

    samples = _samples(metrics)
    total = "litellm_proxy_total_requests_metric_total"
    assert _value(samples, total, status_code="200", hashed_api_key="t" * 64) == 2
    assert _value(samples, total, status_code="502", api_key_alias="alias") == 1
    failed = "litellm_proxy_failed_requests_metric_total"
    assert _value(samples, failed, exception_status="502", exception_class="UpstreamError") == 1
    assert _value(samples, "litellm_deployment_total_requests_total", model_id="dep-1") == 3
    assert _value(samples, "litellm_deployment_success_responses_total", model_id="dep-1") == 2
    assert (
        _value(samples, "litellm_deployment_failure_responses_total", exception_status="502") == 1
    )
    assert _value(samples, "litellm_input_tokens_metric_total", model="gpt-x") == 6
    assert _value(samples, "litellm_spend_metric_total", model="gpt-x") == 1.0
    assert _value(samples, "litellm_in_flight_requests", requested_model="m") == 0
    assert not [n for n, _ in samples if n.startswith(("litellm_cache_hits", "litellm_cached_"))]
