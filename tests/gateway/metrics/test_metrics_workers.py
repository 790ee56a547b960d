"""Two uvicorn workers: each counts in its own files, `/metrics` adds them up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from tests.gateway.conftest import MASTER_KEY
from tests.gateway.metrics.conftest import metrics_config, scrape, total
from tests.support.processes import ServiceProcess, free_port, start_service

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
BODY = {"model": "gpt-slow", "messages": [{"role": "user", "content": "which worker?"}]}


@pytest.fixture(scope="module")
def two_workers(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[tuple[ServiceProcess, Path]]:
    work = tmp_path_factory.mktemp("workers")
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump(metrics_config(fake_upstream.url)))
    metrics_dir = work / "prometheus"
    port = free_port()
    service = start_service(
        "gateway-2-workers",
        [
            "-m",
            "toolrelay",
            "gateway",
            "--config",
            str(config),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        port=port,
        log_dir=service_log_dir,
        env={"TOOLRELAY_HOME": str(work / "home"), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        timeout=60,
    )
    yield service, metrics_dir
    service.stop()


def _one_request(url: str) -> int:
    # A fresh connection per request, so the kernel may hand it to either worker.
    with httpx.Client(timeout=30) as client:
        return client.post(f"{url}/v1/chat/completions", json=BODY, headers=AUTH).status_code


def _workers_that_counted(metrics_dir: Path) -> set[str]:
    return {path.stem.split("_")[-1] for path in metrics_dir.glob("counter_*.db")}


def test_counts_add_up_across_workers(two_workers: tuple[ServiceProcess, Path]) -> None:
    service, metrics_dir = two_workers
    sent = 0
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=6) as pool:
        # Concurrent slow requests until both workers have served some (bounded).
        while len(_workers_that_counted(metrics_dir)) < 2:
            assert time.monotonic() < deadline, "only one worker ever answered"
            statuses = list(pool.map(_one_request, [service.url] * 6))
            assert statuses == [200] * 6
            sent += 6
    exposition = scrape(service.url)
    counted = total(
        exposition,
        "litellm_proxy_total_requests_metric_total",
        requested_model="gpt-slow",
        status_code="200",
    )
    assert counted == sent
    latency_count = total(
        exposition, "litellm_request_total_latency_metric_count", requested_model="gpt-slow"
    )
    assert latency_count == sent
    assert total(exposition, "litellm_in_flight_requests") == 0
