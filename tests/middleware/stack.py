"""Real processes for the middleware's end-to-end tests: fake upstream, gateway, MCP
servers and the middleware itself, each on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.processes import ServiceProcess, free_port, start_service

MASTER_KEY = "sk-master-test"


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def gateway_config(upstream_url: str, models: list[str]) -> dict[str, Any]:
    return {
        "model_list": [
            {
                "model_name": name,
                "litellm_params": {
                    "model": f"openai/{name}",
                    "api_base": f"{upstream_url}/v1",
                    "api_key": "fake-upstream-key",
                },
            }
            for name in models
        ],
        "general_settings": {"master_key": MASTER_KEY},
    }


@contextmanager
def running_gateway(config: Path, log_dir: Path) -> Iterator[ServiceProcess]:
    port = free_port()
    service = start_service(
        "gateway",
        ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
        port=port,
        log_dir=log_dir,
    )
    try:
        yield service
    finally:
        service.stop()


def start_test_mcp(
    log_dir: Path, *, port: int | None = None, only: list[str] | None = None
) -> ServiceProcess:
    port = port or free_port()
    args = ["-m", "tests.middleware.mcp_test_server", "--port", str(port)]
    if only:
        args += ["--only", *only]
    return start_service("test-mcp", args, port=port, log_dir=log_dir, health_path="/healthz")


@contextmanager
def running_middleware(config: Path, log_dir: Path) -> Iterator[ServiceProcess]:
    port = free_port()
    service = start_service(
        "middleware",
        ["-m", "toolrelay", "middleware", "--config", str(config), "--port", str(port)],
        port=port,
        log_dir=log_dir,
    )
    try:
        yield service
    finally:
        service.stop()


@dataclass
class Stack:
    upstream: ServiceProcess
    gateway: ServiceProcess
    middleware: ServiceProcess
    mcp: dict[str, ServiceProcess] = field(default_factory=dict)
    # The middleware's config file contents, for fixtures that start a variant of it.
    middleware_config: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"{self.middleware.url}/v1"

    def script(self, model: str, replies: list[dict[str, Any]]) -> None:
        response = httpx.post(
            f"{self.upstream.url}/__fake__/script", json={"model": model, "replies": replies}
        )
        response.raise_for_status()

    def received(self, model: str) -> list[dict[str, Any]]:
        """Bodies of the chat requests the fake upstream got for `model`, oldest first."""
        response = httpx.get(f"{self.upstream.url}/__fake__/requests", params={"model": model})
        response.raise_for_status()
        return [entry["body"] for entry in response.json()["data"]]

    def status(self) -> dict[str, Any]:
        response = httpx.get(
            f"{self.middleware.url}/mcp/tools/list",
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
        )
        response.raise_for_status()
        return {server["name"]: server for server in response.json()["servers"]}
