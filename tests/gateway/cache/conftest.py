"""A gateway process per cache backend, in front of the session's fake upstream."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.components import REDIS_URL, require_component, tcp_port_open
from tests.support.processes import ServiceProcess
from tests.support.seaweedfs import seaweedfs


@dataclass
class CachedGateway:
    backend: str
    gateway: ServiceProcess
    upstream: ServiceProcess

    def upstream_hits(self, marker: str) -> int:
        """How many requests carrying `marker` reached the fake upstream."""
        data = httpx.get(f"{self.upstream.url}/__fake__/requests", timeout=10).json()["data"]
        return sum(1 for entry in data if marker in str(entry.get("body")))


def cache_config(upstream_url: str, cache_params: dict[str, Any]) -> dict[str, Any]:
    def entry(name: str, model: str) -> dict[str, Any]:
        return {
            "model_name": name,
            "litellm_params": {
                "model": f"openai/{model}",
                "api_base": f"{upstream_url}/v1",
                "api_key": UPSTREAM_KEY,
            },
        }

    return {
        "model_list": [entry("gpt-echo", "echo"), entry("gpt-tools", "tool-call")],
        "general_settings": {"master_key": MASTER_KEY},
        "litellm_settings": {"cache": True, "cache_params": cache_params},
    }


def _redis_params() -> dict[str, Any]:
    url = httpx.URL(REDIS_URL)
    require_component(tcp_port_open(url.host, url.port or 6379), f"Redis at {REDIS_URL}")
    return {"type": "redis", "host": url.host, "port": url.port or 6379}


@pytest.fixture(scope="module", params=["local", "redis", "s3"])
def cached_gateway(
    request: pytest.FixtureRequest,
    fake_upstream: ServiceProcess,
    tmp_path_factory: pytest.TempPathFactory,
    service_log_dir: Path,
) -> Iterator[CachedGateway]:
    backend: str = request.param
    namespace = f"toolrelay-test-{uuid.uuid4().hex[:12]}"
    work = tmp_path_factory.mktemp(f"cache-{backend}")
    if backend == "s3":
        with seaweedfs(work) as s3:
            s3.client().make_bucket("llm-cache")
            params = {
                "type": "s3",
                "namespace": namespace,
                "s3_bucket_name": "llm-cache",
                "s3_endpoint_url": s3.url,
                "s3_region_name": s3.region,
                "s3_aws_access_key_id": s3.access_key,
                "s3_aws_secret_access_key": s3.secret_key,
            }
            yield from _run(backend, params, fake_upstream, work, service_log_dir)
        return
    params = {"type": "local"} if backend == "local" else _redis_params()
    params["namespace"] = namespace
    yield from _run(backend, params, fake_upstream, work, service_log_dir)


def _run(
    backend: str,
    params: dict[str, Any],
    upstream: ServiceProcess,
    work: Path,
    log_dir: Path,
) -> Iterator[CachedGateway]:
    gateway = start_gateway(cache_config(upstream.url, params), work, log_dir)
    try:
        yield CachedGateway(backend=backend, gateway=gateway, upstream=upstream)
    finally:
        gateway.stop()
