"""`litellm_remaining_requests_metric` and `litellm_remaining_tokens_metric`: the provider's
own `x-ratelimit-remaining-*` answer headers, per deployment, read from `/metrics` after
traffic (the fake upstream's `ratelimit-N` models send N requests and N*1000 tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.gateway.metrics.conftest import metrics_config, sample_values, scrape
from tests.support.processes import ServiceProcess

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "how much is left?"}]


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    config = metrics_config(fake_upstream.url)
    base = f"{fake_upstream.url}/v1"
    for name, model in (("limited", "echo+ratelimit-9"), ("limited-stream", "echo+ratelimit-4")):
        config["model_list"].append(
            {
                "model_name": name,
                "litellm_params": {
                    "model": f"openai/{model}",
                    "api_base": base,
                    "api_key": UPSTREAM_KEY,
                },
                "model_info": {"id": f"{name}-id"},
            }
        )
    service = start_gateway(config, tmp_path_factory.mktemp("provider-limits"), service_log_dir)
    yield service
    service.stop()


def test_provider_headroom_per_deployment(gateway: ServiceProcess) -> None:
    before = scrape(gateway.url)
    assert sample_values(before, "litellm_remaining_requests_metric", model_group="limited") == []
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0) as client:
        client.chat.completions.create(model="limited", messages=USER)
        stream = client.chat.completions.create(
            model="limited-stream",
            messages=USER,
            stream=True,
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        # A deployment whose provider sends no such headers gets no series.
        client.chat.completions.create(model="gpt-echo", messages=USER)
    after = scrape(gateway.url)
    for group, requests in (("limited", 9.0), ("limited-stream", 4.0)):
        labels = {
            "model_group": group,
            "api_provider": "openai",
            "model_id": f"{group}-id",
            "litellm_model_name": f"echo+ratelimit-{int(requests)}",
        }
        assert sample_values(after, "litellm_remaining_requests_metric", **labels) == [requests]
        assert sample_values(after, "litellm_remaining_tokens_metric", **labels) == [
            requests * 1000
        ]
    assert sample_values(after, "litellm_remaining_requests_metric", model_group="gpt-echo") == []
