"""Fixtures shared by the MCP server tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.mcp_servers.site import Site, running_site
from tests.mcp_servers.support import TRANSPORTS, Transport
from tests.support.processes import ServiceProcess, free_port, start_service


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    """Run a test once per MCP transport: streamable HTTP and legacy SSE."""
    value: Transport = request.param
    return value


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The loopback test web site, shared by the fetch and browser tests."""
    with running_site() as running:
        yield running


def write_config(directory: Path, name: str, settings: dict[str, Any]) -> Path:
    """A toolrelay config file with `mcp_server_settings.<name>` set to `settings`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-config.yaml"
    path.write_text(yaml.safe_dump({"mcp_server_settings": {name: settings}}))
    return path


@contextmanager
def mcp_server_process(
    name: str, settings: dict[str, Any], log_dir: Path, *, timeout: float = 30.0
) -> Iterator[ServiceProcess]:
    """`python -m mcp_servers.cli NAME` on a free port, configured from a file."""
    port = free_port()
    config = write_config(log_dir / f"{port}", name, settings)
    service = start_service(
        name,
        ["-m", "mcp_servers.cli", name, "--port", str(port), "--config", str(config)],
        port=port,
        log_dir=log_dir,
        health_path="/healthz",
        timeout=timeout,
    )
    try:
        yield service
    finally:
        service.stop()
