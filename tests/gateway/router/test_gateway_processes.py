"""The router through real gateway processes (`python -m toolrelay gateway`) in front of the
fake upstream process, driven with the official openai SDK (its own retries off, so every
error the gateway returns is visible)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import openai
import pytest
import yaml
from openai import OpenAI
from redis import Redis

from testing.fake_upstream import FIXED_TEXT
from tests.support.components import REDIS_URL, require_component, tcp_port_open
from tests.support.processes import ServiceProcess, free_port, start_service
from tests.testing.fake_upstream.harness import running_fake_upstream

MASTER = "sk-router-test"
HI = [{"role": "user", "content": "hi"}]


def entry(group: str, model: str, upstream: ServiceProcess, **params: Any) -> dict[str, Any]:
    info = {"id": params.pop("id")} if "id" in params else {}
    return {
        "model_name": group,
        "litellm_params": {
            "model": f"openai/{model}",
            "api_base": f"{upstream.url}/v1",
            "api_key": "sk-upstream",
            **params,
        },
        "model_info": info,
    }


def start_gateway(
    name: str, config: dict[str, Any], log_dir: Path, env: dict[str, str] | None = None
) -> ServiceProcess:
    path = log_dir / f"{name}-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    return start_service(
        name,
        ["-m", "toolrelay", "gateway", "--config", str(path), "--port", str(port)],
        port=port,
        log_dir=log_dir,
        env={"TOOLRELAY_ROUTER_NAMESPACE": "", "REDIS_URL": "", **(env or {})},
    )


def sdk(gateway: ServiceProcess) -> OpenAI:
    return OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER, max_retries=0, timeout=20)


def upstream_calls(upstream: ServiceProcess, model: str) -> int:
    response = httpx.get(f"{upstream.url}/__fake__/requests", params={"model": model})
    return len(response.json()["data"])


@pytest.fixture(scope="module")
def upstream(service_log_dir: Path) -> Iterator[ServiceProcess]:
    with running_fake_upstream(service_log_dir) as service:
        yield service


@pytest.fixture(scope="module")
def gateway(upstream: ServiceProcess, service_log_dir: Path) -> Iterator[ServiceProcess]:
    config = {
        "model_list": [
            entry("pair", "error-429+pair", upstream, order=1, id="pair-bad"),
            entry("pair", "fixed+pair", upstream, order=2, id="pair-good"),
            entry("down", "error-500+down", upstream, id="down-1"),
            entry("backup", "echo+backup", upstream, id="backup-1"),
            entry("small", "context-window", upstream, id="small-1"),
            entry("large", "fixed+large", upstream, id="large-1"),
            entry("breaks", "disconnect", upstream, id="breaks-1"),
        ],
        "router_settings": {
            "num_retries": 1,
            "cooldown_time": 60,
            "fallbacks": [{"down": ["backup"]}, {"small": ["backup"]}],
            "context_window_fallbacks": [{"small": ["large"]}],
        },
        "general_settings": {"master_key": MASTER},
    }
    service = start_gateway("gateway-router", config, service_log_dir)
    yield service
    service.stop()


def test_429_deployment_is_cooled_and_its_peer_answers(
    gateway: ServiceProcess, upstream: ServiceProcess
) -> None:
    with sdk(gateway) as client:
        for i in range(6):
            raw = client.chat.completions.with_raw_response.create(model="pair", messages=HI)
            assert raw.parse().choices[0].message.content == FIXED_TEXT
            assert raw.headers["x-litellm-model-id"] == "pair-good"
            assert raw.headers["x-litellm-model-group"] == "pair"
            # Only the first request met the 429 (then retried on the peer).
            assert raw.headers["x-litellm-attempted-retries"] == ("1" if i == 0 else "0")
    assert upstream_calls(upstream, "error-429+pair") == 1
    assert upstream_calls(upstream, "fixed+pair") == 6


def test_group_down_falls_back_to_its_fallback_group(
    gateway: ServiceProcess, upstream: ServiceProcess
) -> None:
    with sdk(gateway) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="down", messages=[{"role": "user", "content": "echo me"}]
        )
    assert raw.parse().choices[0].message.content == "echo me"
    assert raw.headers["x-litellm-model-group"] == "backup"
    assert raw.headers["x-litellm-model-id"] == "backup-1"
    assert raw.headers["x-litellm-attempted-fallbacks"] == "1"
    assert raw.headers["x-litellm-attempted-retries"] == "1"
    assert upstream_calls(upstream, "error-500+down") >= 2


def test_stream_failing_before_first_chunk_falls_back(gateway: ServiceProcess) -> None:
    with sdk(gateway) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="down", messages=[{"role": "user", "content": "streamed"}], stream=True
        )
        text = "".join(
            chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices
        )
    assert text == "streamed"
    assert raw.headers["x-litellm-model-group"] == "backup"


def test_context_window_error_uses_context_window_fallbacks(gateway: ServiceProcess) -> None:
    with sdk(gateway) as client:
        raw = client.chat.completions.with_raw_response.create(model="small", messages=HI)
    assert raw.parse().choices[0].message.content == FIXED_TEXT
    # `large` (context_window_fallbacks), not `backup` (the generic fallbacks).
    assert raw.headers["x-litellm-model-group"] == "large"
    assert raw.headers["x-litellm-attempted-retries"] == "0"


def test_request_body_fallbacks(gateway: ServiceProcess) -> None:
    with sdk(gateway) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="down",
            messages=[{"role": "user", "content": "body"}],
            extra_body={"fallbacks": ["large"], "num_retries": 0},
        )
    assert raw.headers["x-litellm-model-group"] == "large"
    assert raw.headers["x-litellm-attempted-retries"] == "0"


def test_stream_failing_after_first_chunk_ends_with_an_error_event(
    gateway: ServiceProcess,
) -> None:
    received: list[str] = []
    with sdk(gateway) as client:
        stream = client.chat.completions.create(model="breaks", messages=HI, stream=True)
        with pytest.raises(openai.APIError):
            for chunk in stream:
                received.append(chunk.id)
    assert received  # the stream had started: no retry, an error event instead
    raw = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"authorization": f"Bearer {MASTER}"},
        json={"model": "breaks", "messages": HI, "stream": True},
        timeout=20,
    )
    events = [line for line in raw.text.splitlines() if line.startswith("data: ")]
    assert raw.status_code == 200
    assert '"error"' in events[-1] and events[-1] != "data: [DONE]"


def test_litellm_documented_router_settings_work_unchanged(
    upstream: ServiceProcess, service_log_dir: Path
) -> None:
    # The router_settings block of LiteLLM's "Configuration and defaults" page, verbatim.
    block = yaml.safe_load(
        """
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
  fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
"""
    )
    config = {
        "model_list": [
            entry("gpt-4o", "error-503+doc", upstream, id="doc-gpt-4o"),
            entry("claude-sonnet", "fixed+doc", upstream, id="doc-claude"),
        ],
        **block,
        "general_settings": {"master_key": MASTER},
    }
    service = start_gateway("gateway-litellm-doc", config, service_log_dir)
    try:
        with sdk(service) as client:
            raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HI)
        assert raw.parse().choices[0].message.content == FIXED_TEXT
        assert raw.headers["x-litellm-model-group"] == "claude-sonnet"
        assert raw.headers["x-litellm-attempted-retries"] == "2"
        assert upstream_calls(upstream, "error-503+doc") == 3
        assert "unknown key" not in service.log()
    finally:
        service.stop()


# -- two gateway processes sharing the real Redis -------------------------------------------

REDIS = urlparse(REDIS_URL)


@pytest.fixture(scope="module")
def redis_namespace() -> Iterator[str]:
    require_component(
        tcp_port_open(REDIS.hostname or "127.0.0.1", REDIS.port or 6379), f"Redis at {REDIS_URL}"
    )
    prefix = f"toolrelay-test:{uuid.uuid4().hex}"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def gateway_pair(
    upstream: ServiceProcess, service_log_dir: Path, redis_namespace: str
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    config = {
        "model_list": [
            entry("limited", "fixed+limited", upstream, rpm=3, id="limited-1"),
            entry("shared", "error-429+shared", upstream, order=1, id="shared-bad"),
            entry("shared", "fixed+shared", upstream, order=2, id="shared-good"),
        ],
        "router_settings": {"cooldown_time": 60, "num_retries": 1},
        "general_settings": {"master_key": MASTER},
    }
    env = {"REDIS_URL": REDIS_URL, "TOOLRELAY_ROUTER_NAMESPACE": redis_namespace}
    first = start_gateway("gateway-redis-a", config, service_log_dir, env)
    try:
        second = start_gateway("gateway-redis-b", config, service_log_dir, env)
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


def wait_for_room_in_this_minute(seconds_needed: float = 10.0) -> None:
    """rpm windows are calendar minutes: start the test well inside one."""
    deadline = time.monotonic() + 65
    while 60 - time.time() % 60 < seconds_needed:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_two_gateways_share_one_rpm_limit(
    gateway_pair: tuple[ServiceProcess, ServiceProcess], upstream: ServiceProcess
) -> None:
    wait_for_room_in_this_minute()
    statuses: list[int] = []
    clients = [sdk(g) for g in gateway_pair]
    for i in range(6):
        try:
            clients[i % 2].chat.completions.create(model="limited", messages=HI)
            statuses.append(200)
        except openai.RateLimitError as exc:
            assert "No deployments available" in exc.message
            statuses.append(429)
    for client in clients:
        client.close()
    assert statuses == [200, 200, 200, 429, 429, 429]
    assert upstream_calls(upstream, "fixed+limited") == 3


def test_two_gateways_share_cooldowns(
    gateway_pair: tuple[ServiceProcess, ServiceProcess], upstream: ServiceProcess
) -> None:
    first, second = gateway_pair
    with sdk(first) as client:
        raw = client.chat.completions.with_raw_response.create(model="shared", messages=HI)
    assert raw.headers["x-litellm-model-id"] == "shared-good"
    assert raw.headers["x-litellm-attempted-retries"] == "1"
    with sdk(second) as client:
        for _ in range(3):
            raw = client.chat.completions.with_raw_response.create(model="shared", messages=HI)
            assert raw.headers["x-litellm-model-id"] == "shared-good"
            assert raw.headers["x-litellm-attempted-retries"] == "0"
    assert upstream_calls(upstream, "error-429+shared") == 1
