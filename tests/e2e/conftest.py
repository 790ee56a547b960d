"""One real stack for the Open WebUI end-to-end test, started once per module.

fake upstream ← gateway ← middleware (+ postgres MCP server) ← Open WebUI (own venv) ← test /
Chromium. Everything binds to 127.0.0.1 on free ports and is stopped by PID at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.open_webui import OpenWebUI, OpenWebUIClient, running_open_webui
from tests.e2e.open_webui_env import ensure_open_webui
from tests.middleware.stack import (
    MASTER_KEY,
    gateway_config,
    running_gateway,
    running_middleware,
    write_yaml,
)
from tests.support.components import POSTGRES_DSN, require_component, tcp_port_open
from tests.support.processes import ServiceProcess, free_port, start_service
from tests.testing.fake_upstream.harness import running_fake_upstream

# The chat model streams its answer one word per chunk, 50 ms apart, as a real model writes.
CHAT_MODEL = "owui-sql+slow-stream-50"
# Open WebUI's title/tags/follow-up tasks go to their own model (TASK_MODEL_EXTERNAL): the
# fake upstream's scripts are one FIFO per model, and the title task runs concurrently with
# the chat turn, so sharing the chat model's queue would make the test racy. The middleware
# recognises task requests by their shape, not by model, so this changes nothing it decides.
TASK_MODEL = "owui-tasks"
FIXTURE_TABLE = "toolrelay_owui_fixture"
# Open WebUI signs who is asking into X-OpenWebUI-User-Jwt; the middleware verifies it.
USER_JWT_SECRET = "toolrelay-e2e-forward-user-secret-0123456789"
FIXTURE_NAME = 'owui-row "alpha" & beta'


@dataclass
class E2EStack:
    upstream: ServiceProcess
    gateway: ServiceProcess
    postgres_mcp: ServiceProcess
    middleware: ServiceProcess
    webui: OpenWebUI

    def script(self, model: str, replies: list[dict[str, Any]]) -> None:
        response = httpx.post(
            f"{self.upstream.url}/__fake__/script", json={"model": model, "replies": replies}
        )
        response.raise_for_status()

    def received(self, model: str) -> list[dict[str, Any]]:
        """Chat request bodies the fake upstream got for `model`, oldest first."""
        response = httpx.get(f"{self.upstream.url}/__fake__/requests", params={"model": model})
        response.raise_for_status()
        return [entry["body"] for entry in response.json()["data"]]

    def mcp_tool_names(self) -> set[str]:
        response = httpx.get(
            f"{self.middleware.url}/mcp/tools/list",
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
        )
        response.raise_for_status()
        return {tool["name"] for server in response.json()["servers"] for tool in server["tools"]}


def _prepare_postgres() -> None:
    async def create() -> None:
        conn = await asyncpg.connect(POSTGRES_DSN)
        try:
            await conn.execute(
                f"DROP TABLE IF EXISTS {FIXTURE_TABLE};"
                f"CREATE TABLE {FIXTURE_TABLE} (id int PRIMARY KEY, name text);"
            )
            await conn.execute(f"INSERT INTO {FIXTURE_TABLE} VALUES (1, $1)", FIXTURE_NAME)
        finally:
            await conn.close()

    asyncio.run(create())


def _start_postgres_mcp(config_dir: Path, log_dir: Path) -> ServiceProcess:
    port = free_port()
    config = write_yaml(
        config_dir / "postgres.yaml", {"mcp_server_settings": {"postgres": {"dsn": POSTGRES_DSN}}}
    )
    return start_service(
        "postgres-mcp",
        ["-m", "mcp_servers.cli", "postgres", "--port", str(port), "--config", str(config)],
        port=port,
        log_dir=log_dir,
        health_path="/healthz",
    )


def _wait_mcp_healthy(middleware: ServiceProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    servers: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = httpx.get(
            f"{middleware.url}/mcp/tools/list", headers={"Authorization": f"Bearer {MASTER_KEY}"}
        )
        servers = response.json().get("servers", []) if response.is_success else []
        if any(s["name"] == "postgres" and s.get("health") == "healthy" for s in servers):
            return
        time.sleep(0.1)
    raise TimeoutError(f"postgres MCP server not healthy in the middleware: {servers}")


@pytest.fixture(scope="module")
def open_webui_executable() -> Path:
    return ensure_open_webui()


@pytest.fixture(scope="module")
def e2e_stack(
    open_webui_executable: Path,
    service_log_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[E2EStack]:
    require_component(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    _prepare_postgres()
    config_dir = tmp_path_factory.mktemp("open-webui-e2e")
    with running_fake_upstream(service_log_dir) as upstream:
        gateway_file = write_yaml(
            config_dir / "gateway.yaml", gateway_config(upstream.url, [CHAT_MODEL, TASK_MODEL])
        )
        with running_gateway(gateway_file, service_log_dir) as gateway:
            postgres_mcp = _start_postgres_mcp(config_dir, service_log_dir)
            try:
                middleware_file = write_yaml(
                    config_dir / "middleware.yaml",
                    {
                        "general_settings": {"master_key": MASTER_KEY},
                        "mcp_servers": {"postgres": {"url": f"{postgres_mcp.url}/mcp"}},
                        "middleware_settings": {
                            "gateway_url": gateway.url,
                            "tool_timeout": 20,
                            "openwebui_jwt_secret": USER_JWT_SECRET,
                        },
                        "storage": {"local_dir": str(config_dir / "artifacts")},
                    },
                )
                with running_middleware(middleware_file, service_log_dir) as middleware:
                    _wait_mcp_healthy(middleware)
                    with running_open_webui(
                        open_webui_executable,
                        data_dir=config_dir / "open-webui-data",
                        log_dir=service_log_dir,
                        openai_base_url=f"{middleware.url}/v1",
                        openai_api_key=MASTER_KEY,
                        extra_env={
                            "TASK_MODEL_EXTERNAL": TASK_MODEL,
                            "DEFAULT_MODELS": CHAT_MODEL,
                            # Typing in the browser must not send autocomplete tasks.
                            "ENABLE_AUTOCOMPLETE_GENERATION": "false",
                            "ENABLE_FORWARD_USER_INFO_HEADERS": "true",
                            "FORWARD_USER_INFO_HEADER_JWT_SECRET": USER_JWT_SECRET,
                        },
                    ) as webui:
                        yield E2EStack(upstream, gateway, postgres_mcp, middleware, webui)
            finally:
                postgres_mcp.stop()


@pytest.fixture(scope="module")
def webui_client(e2e_stack: E2EStack) -> Iterator[OpenWebUIClient]:
    client = OpenWebUIClient(e2e_stack.webui.url)
    try:
        yield client
    finally:
        client.close()
