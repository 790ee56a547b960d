"""Session fixtures: one real stack (fake upstream, gateway, MCP servers, middleware)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.middleware.stack import (
    MASTER_KEY,
    Stack,
    gateway_config,
    running_gateway,
    running_middleware,
    start_test_mcp,
    write_yaml,
)
from tests.support.components import POSTGRES_DSN, tcp_port_open
from tests.support.processes import ServiceProcess, free_port, start_service
from tests.testing.fake_upstream.harness import running_fake_upstream

# Streams its (scripted) answer one word per chunk, 50 ms apart.
SLOW_ANSWER_MODEL = "mw-slow-answer+slow-stream-50"
MODELS = [
    "mw-sql",
    "mw-sql-stream",
    "mw-parallel",
    "mw-image",
    "mw-kill",
    "mw-client",
    "mw-client-stream",
    "mw-aux",
    "mw-history",
    "mw-fail",
    "mw-big",
    "mw-repeat",
    "mw-heartbeat",
    "mw-reqid",
    "mw-error",
    "mw-browser",
    "mw-s3",
    "tool-call",
    SLOW_ANSWER_MODEL,
    "mw-fault",
    "mw-s3-down",
    # /v1/responses (test_e2e_responses.py, test_e2e_codex.py): answer with the tool's result
    "mw-resp+tool-result",
    "mw-resp-stream+tool-result",
    "mw-resp-client",
    "mw-resp-hosted+tool-result",
    "mw-codex+tool-result",
    "mw-codex-mixed+tool-result",
    "mw-codex-namespace+tool-result",
]
FIXTURE_TABLE = "toolrelay_mw_fixture"


def _prepare_postgres() -> bool:
    if not tcp_port_open("127.0.0.1", 5432):
        return False

    async def create() -> None:
        conn = await asyncpg.connect(POSTGRES_DSN)
        try:
            await conn.execute(
                f"DROP TABLE IF EXISTS {FIXTURE_TABLE};"
                f"CREATE TABLE {FIXTURE_TABLE} (id int PRIMARY KEY, name text);"
                f"INSERT INTO {FIXTURE_TABLE} VALUES (1, 'toolrelay-row-alpha'), (2, 'beta');"
            )
        finally:
            await conn.close()

    asyncio.run(create())
    return True


@pytest.fixture(scope="session")
def postgres_ready() -> bool:
    return _prepare_postgres()


@pytest.fixture(scope="session")
def stack(
    service_log_dir: Path, tmp_path_factory: pytest.TempPathFactory, postgres_ready: bool
) -> Iterator[Stack]:
    config_dir = tmp_path_factory.mktemp("middleware-config")
    processes: dict[str, ServiceProcess] = {}
    with running_fake_upstream(service_log_dir) as upstream:
        gateway_file = write_yaml(config_dir / "gateway.yaml", gateway_config(upstream.url, MODELS))
        with running_gateway(gateway_file, service_log_dir) as gateway:
            try:
                processes["test"] = start_test_mcp(service_log_dir)
                processes["victim"] = start_test_mcp(service_log_dir, only=["echo"])
                servers = {name: {"url": f"{proc.url}/mcp"} for name, proc in processes.items()}
                if postgres_ready:
                    port = free_port()
                    pg_config = write_yaml(
                        config_dir / "postgres.yaml",
                        {"mcp_server_settings": {"postgres": {"dsn": POSTGRES_DSN}}},
                    )
                    processes["postgres"] = start_service(
                        "postgres-mcp",
                        [
                            "-m",
                            "mcp_servers.cli",
                            "postgres",
                            "--port",
                            str(port),
                            "--config",
                            str(pg_config),
                        ],
                        port=port,
                        log_dir=service_log_dir,
                        health_path="/healthz",
                    )
                    servers["postgres"] = {"url": f"{processes['postgres'].url}/mcp"}
                middleware_config: dict[str, Any] = {
                    "general_settings": {"master_key": MASTER_KEY},
                    "mcp_servers": servers,
                    "middleware_settings": {
                        "gateway_url": gateway.url,
                        "max_iterations": 3,
                        "tool_timeout": 20,
                        "heartbeat_interval": 0.2,
                        "max_tool_result_chars": 2000,
                        "reconnect_max_backoff": 0.5,
                    },
                    "storage": {"local_dir": str(config_dir / "artifacts")},
                }
                middleware_file = write_yaml(config_dir / "middleware.yaml", middleware_config)
                with running_middleware(middleware_file, service_log_dir) as middleware:
                    stack = Stack(upstream, gateway, middleware, processes, middleware_config)
                    _wait_servers_healthy(stack, set(servers))
                    yield stack
            finally:
                for process in processes.values():
                    process.stop()


@pytest.fixture(scope="session")
def forced_stack(
    stack: Stack, service_log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The same stack behind a second middleware with `upstream_stream: false`: every model
    call is stream=false even when the client streams (the original design)."""
    config = dict(stack.middleware_config)
    config["middleware_settings"] = {**config["middleware_settings"], "upstream_stream": False}
    path = write_yaml(tmp_path_factory.mktemp("forced") / "middleware.yaml", config)
    with running_middleware(path, service_log_dir) as middleware:
        forced = Stack(stack.upstream, stack.gateway, middleware, stack.mcp, config)
        _wait_servers_healthy(forced, set(config["mcp_servers"]))
        yield forced


@pytest.fixture(params=["streamed", "forced"])
def either_stack(request: pytest.FixtureRequest) -> Stack:
    """Both upstream modes: streamed model calls (the default) and `upstream_stream: false`."""
    name = "stack" if request.param == "streamed" else "forced_stack"
    found: Stack = request.getfixturevalue(name)
    return found


def _wait_servers_healthy(stack: Stack, names: set[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    status: dict[str, object] = {}
    while time.monotonic() < deadline:
        status = stack.status()
        if all(status.get(name, {}).get("health") == "healthy" for name in names):  # type: ignore[union-attr]
            return
        time.sleep(0.05)
    raise TimeoutError(f"MCP servers not healthy in the middleware: {status}")
