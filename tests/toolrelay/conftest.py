"""A running stack for the operator CLI's tests: fake upstream, gateway (own SQLite store),
a test MCP server and the middleware, each on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.middleware.stack import start_test_mcp, write_yaml
from tests.support.processes import ServiceProcess, free_port, start_service
from tests.testing.fake_upstream.harness import running_fake_upstream

MASTER_KEY = "sk-operator-master"
MODELS = ["op-fixed", "op-tools"]


@dataclass
class OperatorStack:
    upstream: ServiceProcess
    gateway: ServiceProcess
    middleware: ServiceProcess
    home: Path


INPUT_PRICE, OUTPUT_PRICE = 1e-6, 2e-6  # per token: keys with a budget need priced models


@pytest.fixture(scope="module")
def operator_stack(
    service_log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorStack]:
    home = tmp_path_factory.mktemp("operator-home")
    with running_fake_upstream(service_log_dir) as upstream:
        gateway_file = write_yaml(
            home / "gateway.yaml",
            {
                "model_list": [
                    {
                        "model_name": name,
                        "litellm_params": {
                            "model": f"openai/{'fixed' if name == 'op-fixed' else name}",
                            "api_base": f"{upstream.url}/v1",
                            "api_key": "fake-upstream-key",
                            "input_cost_per_token": INPUT_PRICE,
                            "output_cost_per_token": OUTPUT_PRICE,
                        },
                    }
                    for name in MODELS
                ],
                "general_settings": {"master_key": MASTER_KEY, "proxy_batch_write_at": 0.2},
            },
        )
        port = free_port()
        gateway = start_service(
            "operator-gateway",
            ["-m", "toolrelay", "gateway", "--config", str(gateway_file), "--port", str(port)],
            port=port,
            log_dir=service_log_dir,
            env={"TOOLRELAY_HOME": str(home)},
        )
        mcp = start_test_mcp(service_log_dir, only=["echo"])
        middleware_file = write_yaml(
            home / "middleware.yaml",
            {
                "general_settings": {"master_key": MASTER_KEY},
                "mcp_servers": {"test": {"url": f"{mcp.url}/mcp"}},
                "middleware_settings": {"gateway_url": gateway.url, "max_iterations": 3},
            },
        )
        port = free_port()
        middleware = start_service(
            "operator-middleware",
            [
                "-m",
                "toolrelay",
                "middleware",
                "--config",
                str(middleware_file),
                "--port",
                str(port),
            ],
            port=port,
            log_dir=service_log_dir,
        )
        try:
            yield OperatorStack(upstream, gateway, middleware, home)
        finally:
            middleware.stop()
            mcp.stop()
            gateway.stop()
