"""`general_settings.forward_client_headers_to_llm_api` and its per-group form in
`litellm_settings.model_group_settings`: the filter (LiteLLM's choice of headers), the
group match, and through a real gateway process to the fake upstream, which records what it
received."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.deployments import Deployment
from gateway.providers.client_headers import (
    HeaderForwarding,
    forwardable_headers,
    with_client_headers,
)
from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess


def test_only_x_headers_and_anthropic_beta_are_forwarded() -> None:
    raw = [
        (b"X-Trace-Id", b"t-1"),
        (b"anthropic-beta", b"prompt-caching-2024-07-31"),
        (b"x-stainless-lang", b"python"),
        (b"authorization", b"Bearer sk-virtual"),
        (b"x-api-key", b"sk-virtual"),
        (b"api-key", b"sk-virtual"),
        (b"x-goog-api-key", b"k"),
        (b"ocp-apim-subscription-key", b"k"),
        (b"x-litellm-api-key", b"sk-virtual"),
        (b"x-mcp-servers", b"a"),
        (b"user-agent", b"sdk"),
        (b"content-type", b"application/json"),
    ]
    assert forwardable_headers(raw) == {
        "x-trace-id": "t-1",
        "anthropic-beta": "prompt-caching-2024-07-31",
    }


def test_the_deployments_own_extra_headers_win() -> None:
    deployment = Deployment(
        id="d", model_name="g", provider="openai", model="m", extra_headers={"X-Team": "ops"}
    )
    merged = with_client_headers(deployment, {"x-team": "client", "x-trace-id": "t"})
    assert dict(merged.extra_headers) == {"x-trace-id": "t", "X-Team": "ops"}
    assert deployment.extra_headers == {"X-Team": "ops"}  # the shared deployment is untouched
    assert with_client_headers(deployment, {}) is deployment


def _config(upstream: ServiceProcess, model: str, forward: bool) -> dict[str, Any]:
    return {
        "model_list": [
            {
                "model_name": "m",
                "litellm_params": {
                    "model": f"openai/{model}",
                    "api_base": f"{upstream.url}/v1",
                    "api_key": UPSTREAM_KEY,
                },
            },
        ],
        "general_settings": {
            "master_key": MASTER_KEY,
            "forward_client_headers_to_llm_api": forward,
        },
    }


@pytest.fixture
def gateways(
    fake_upstream: ServiceProcess, tmp_path: Path, service_log_dir: Path
) -> Iterator[tuple[str, ServiceProcess, ServiceProcess]]:
    model = f"fixed+headers-{uuid.uuid4().hex[:8]}"
    on_dir, off_dir = tmp_path / "on", tmp_path / "off"
    on_dir.mkdir()
    off_dir.mkdir()
    env = {"REDIS_URL": ""}
    forwarding = start_gateway(_config(fake_upstream, model, True), on_dir, service_log_dir, env)
    try:
        plain = start_gateway(_config(fake_upstream, model, False), off_dir, service_log_dir, env)
        try:
            yield model, forwarding, plain
        finally:
            plain.stop()
    finally:
        forwarding.stop()


def _received(upstream: ServiceProcess, model: str) -> list[dict[str, str]]:
    found = httpx.get(f"{upstream.url}/__fake__/requests", params={"model": model}).json()
    return [entry["headers"] for entry in found["data"]]


@pytest.mark.parametrize("stream", [False, True])
def test_client_headers_reach_the_provider_only_when_configured(
    gateways: tuple[str, ServiceProcess, ServiceProcess],
    fake_upstream: ServiceProcess,
    stream: bool,
) -> None:
    model, forwarding, plain = gateways
    headers = {
        "authorization": f"Bearer {MASTER_KEY}",
        "x-trace-id": "trace-42",
        "anthropic-beta": "beta-1",
        "x-stainless-lang": "python",
    }
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    for gateway in (forwarding, plain):
        answer = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    with_setting, without = _received(fake_upstream, model)
    assert with_setting["x-trace-id"] == "trace-42"
    assert with_setting["anthropic-beta"] == "beta-1"
    assert "x-stainless-lang" not in with_setting
    # the provider's key, never the client's
    assert with_setting["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert "x-trace-id" not in without and "anthropic-beta" not in without
    assert without["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_model_group_settings_name_groups_and_patterns() -> None:
    """`litellm_settings.model_group_settings.forward_client_headers_to_llm_api`: a group by
    its name or by the model asked for, `*` as the one wildcard; the general switch covers
    every group."""
    forwarding = HeaderForwarding.from_settings(False, ["gpt-4o-mini", "byok/*", "a[b]*"])
    assert forwarding.applies("gpt-4o-mini", "gpt-4o-mini")
    assert forwarding.applies("byok/*", "byok/gpt-4o")  # a wildcard group, by the model asked
    assert forwarding.applies("byok-direct", "byok/claude")
    assert forwarding.applies("a[b]-group", None)  # brackets are plain characters
    assert not forwarding.applies("ab-group", "ab-group")
    assert not forwarding.applies("gpt-4o", "gpt-4o")
    assert not forwarding.applies("byok", "byok")
    assert not HeaderForwarding.from_settings(False, []).applies("m", "m")
    assert HeaderForwarding.from_settings(True, []).applies("m", "m")


def test_only_the_listed_model_group_forwards(
    fake_upstream: ServiceProcess, tmp_path: Path, service_log_dir: Path
) -> None:
    model = f"fixed+group-headers-{uuid.uuid4().hex[:8]}"
    config = _config(fake_upstream, model, False)
    config["model_list"].append({**config["model_list"][0], "model_name": "unlisted"})
    config["litellm_settings"] = {
        "model_group_settings": {"forward_client_headers_to_llm_api": ["m"]}
    }
    gateway = start_gateway(config, tmp_path, service_log_dir, {"REDIS_URL": ""})
    try:
        headers = {"authorization": f"Bearer {MASTER_KEY}", "x-trace-id": "trace-7"}
        for group in ("m", "unlisted"):
            body = {"model": group, "messages": [{"role": "user", "content": "hi"}]}
            answer = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
    finally:
        gateway.stop()
    listed, unlisted = _received(fake_upstream, model)
    assert listed["x-trace-id"] == "trace-7"
    assert "x-trace-id" not in unlisted
    assert listed["authorization"] == unlisted["authorization"] == f"Bearer {UPSTREAM_KEY}"
