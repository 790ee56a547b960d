"""Real processes for gateway end-to-end tests: the fake upstream and a gateway in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from testing.fake_upstream import command_args
from tests.support.processes import ServiceProcess, free_port, start_service

UPSTREAM_KEY = "sk-upstream-secret"
MASTER_KEY = "sk-gateway-master"


@pytest.fixture(scope="session")
def fake_upstream(service_log_dir: Path) -> Iterator[ServiceProcess]:
    port = free_port()
    service = start_service(
        "fake-upstream",
        command_args(port, require_key=UPSTREAM_KEY),
        port=port,
        log_dir=service_log_dir,
        health_path="/health",
    )
    yield service
    service.stop()


def start_gateway(
    config: dict[str, object], tmp_dir: Path, log_dir: Path, env: dict[str, str] | None = None
) -> ServiceProcess:
    path = tmp_dir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    return start_service(
        "gateway",
        ["-m", "toolrelay", "gateway", "--config", str(path), "--port", str(port)],
        port=port,
        log_dir=log_dir,
        env={"TOOLRELAY_HOME": str(tmp_dir / "home"), **(env or {})},
    )
