"""A cache hit is logged in spend as a hit that cost nothing, and shows in the metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.cache.conftest import cache_config
from tests.gateway.conftest import MASTER_KEY, start_gateway
from tests.gateway.metrics.conftest import scrape, total
from tests.support.processes import ServiceProcess

ADMIN = {"authorization": f"Bearer {MASTER_KEY}"}


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    config = cache_config(fake_upstream.url, {"type": "local"})
    for entry in config["model_list"]:
        entry["litellm_params"].update(input_cost_per_token=0.01, output_cost_per_token=0.02)
    config["general_settings"]["proxy_batch_write_at"] = 0.2
    service = start_gateway(config, tmp_path_factory.mktemp("cache-spend"), service_log_dir)
    yield service
    service.stop()


def _spend_row(url: str, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        rows = httpx.get(
            f"{url}/spend/logs", params={"request_id": request_id}, headers=ADMIN, timeout=10
        ).json()
        if rows:
            return dict(rows[0])
        assert time.monotonic() < deadline, f"no spend row for {request_id}"
        time.sleep(0.1)  # poll interval for the batched writer


def test_hit_is_logged_with_zero_cost(gateway: ServiceProcess) -> None:
    key = httpx.post(
        f"{gateway.url}/key/generate", headers=ADMIN, json={"key_alias": "cache-spend"}, timeout=10
    ).json()["key"]
    body = {"model": "gpt-echo", "messages": [{"role": "user", "content": "spend of a hit"}]}
    auth = {"authorization": f"Bearer {key}"}
    miss = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=auth, timeout=10)
    hit = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=auth, timeout=10)
    assert (miss.headers["x-toolrelay-cache"], hit.headers["x-toolrelay-cache"]) == ("miss", "hit")

    miss_row = _spend_row(gateway.url, miss.headers["x-request-id"])
    hit_row = _spend_row(gateway.url, hit.headers["x-request-id"])
    assert miss_row["cache_hit"] == "False" and miss_row["spend"] > 0
    assert hit_row["cache_hit"] == "True" and hit_row["spend"] == 0
    assert hit_row["total_tokens"] == miss_row["total_tokens"]
    assert hit_row["key_alias"] == "cache-spend"

    exposition = scrape(gateway.url)
    assert total(exposition, "litellm_cache_hits_metric_total", api_key_alias="cache-spend") == 1
    assert (
        total(exposition, "litellm_llm_api_latency_metric_count", api_key_alias="cache-spend") == 1
    )
