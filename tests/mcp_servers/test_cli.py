"""`python -m mcp_servers.cli`: bad input exits 2 with a message; good input serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mcp_servers.cli import main
from tests.mcp_servers.conftest import write_config
from tests.support.processes import free_port, start_service


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_servers.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown MCP server 'nope'"),
        (["fetch", "--port", "abc"], "invalid int value"),
        (["fetch", "--port", "70000"], "between 1 and 65535"),
        (["fetch", "--shared"], "--shared applies to the bridge only"),
        (["fetch", "--", "echo", "hi"], "takes no command"),
        ([], "the following arguments are required: name"),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bad_config_value_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "fetch", {"max_bytes": -5})
    assert main(["mcp", "fetch", "--config", str(config)]) == 2
    assert "mcp_server_settings.fetch.max_bytes" in capsys.readouterr().err


def test_module_entry_point_reports_errors_without_traceback() -> None:
    result = run_cli("nope")
    assert result.returncode == 2
    assert "unknown MCP server 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_from_environment_and_hosts_from_config(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, "fetch", {"allowed_hosts": ["fetch"]})
    service = start_service(
        "fetch-cli",
        ["-m", "mcp_servers.cli", "fetch", "--port", str(port), "--config", str(config)],
        port=port,
        log_dir=tmp_path,
        health_path="/healthz",
        env={"MCP_AUTH_TOKEN": "env-token"},
    )
    try:
        url = f"{service.url}/mcp"
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        }
        accept = {"Accept": "application/json, text/event-stream"}
        assert httpx.post(url, json=body, headers=accept).status_code == 401
        authorized = {**accept, "Authorization": "Bearer env-token"}
        assert httpx.post(url, json=body, headers=authorized).status_code == 200
        container = {**authorized, "Host": "fetch:8111"}
        assert httpx.post(url, json=body, headers=container).status_code == 200
        foreign = {**authorized, "Host": "other:8111"}
        assert httpx.post(url, json=body, headers=foreign).status_code == 421
    finally:
        service.stop()
