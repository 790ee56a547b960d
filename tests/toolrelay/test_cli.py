"""The `toolrelay` command as a user runs it: config errors, and `up` with embedded defaults."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.components import POSTGRES_DSN
from tests.support.processes import free_port, wait_until_healthy


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolrelay", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_config_error_is_a_clear_message_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, rpm: lots}\n"
    )
    result = run_cli("gateway", "--config", str(config), "--port", str(free_port()))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"config error: {config}" in result.stderr
    assert "model_list[0].litellm_params.rpm" in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = run_cli("gateway", "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert "file not found" in result.stderr


def mcp_port_base() -> int:
    """Four consecutive free ports (postgres, fetch, browser, storage)."""
    while True:
        base = free_port()
        if all(port_is_free(base + i) for i in range(1, 4)):
            return base


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_up(
    tmp_path: Path, env: dict[str, str], *, s3_port: int | None = None
) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY")
        and not k.startswith(("S3_", "MINIO_", "AWS_"))
        and k not in {"LITELLM_MASTER_KEY", "MCP_POSTGRES_DSN"}
    }
    argv = ["up", "--home", str(tmp_path / "home"), "--gateway-port", str(port)]
    argv += ["--middleware-port", str(free_port()), "--mcp-port-base", str(mcp_port_base())]
    argv += ["--s3-port", str(s3_port or free_port())]
    process = subprocess.Popen(
        [sys.executable, "-m", "toolrelay", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**clean_env, **env},
    )
    return process, port


def stop_up(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    assert process.stdout is not None
    seen = ""
    for line in process.stdout:
        seen += line
        if marker in line:
            return seen
    raise AssertionError(f"process ended before printing {marker!r}:\n{seen}")


def test_up_without_provider_keys_says_so_and_serves(tmp_path: Path) -> None:
    process, port = start_up(tmp_path, {})
    try:
        banner = read_until(process, "Ctrl-C to stop")
        assert "models       none: no provider key found" in banner
        assert "set OPENAI_API_KEY" in banner
        assert "mcp fetch" in banner
        # The test machine's PostgreSQL trusts local users, so `up` finds and uses it.
        assert "chose        postgres: local PostgreSQL postgresql://" in banner
        assert f"admin page   http://127.0.0.1:{port}/ui" in banner
        key = (tmp_path / "home" / "master_key").read_text().strip()
        assert f"master key   {key}" in banner
        wait_until_healthy(f"http://127.0.0.1:{port}/health/liveliness", timeout=10)
        models = httpx.get(
            f"http://127.0.0.1:{port}/v1/models", headers={"authorization": f"Bearer {key}"}
        )
        assert models.json() == {"object": "list", "data": []}
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 401
    finally:
        returncode = stop_up(process)
    assert returncode == 0


@pytest.mark.timeout(300)  # two full starts (SeaweedFS and Chromium included) on a busy machine
def test_up_with_openai_key_offers_models_and_keeps_master_key(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "sk-test-not-real", "MCP_POSTGRES_DSN": POSTGRES_DSN}
    process, port = start_up(tmp_path, env)
    try:
        banner = read_until(process, "Ctrl-C to stop")
        assert "gpt-4o-mini" in banner
        assert "mcp postgres" in banner
        key = (tmp_path / "home" / "master_key").read_text().strip()
        models = httpx.get(
            f"http://127.0.0.1:{port}/v1/models", headers={"authorization": f"Bearer {key}"}
        )
        assert "gpt-4o" in [m["id"] for m in models.json()["data"]]
    finally:
        stop_up(process, signal.SIGTERM)
    # A second start reuses the stored key instead of generating a new one.
    again, _ = start_up(tmp_path, {})
    try:
        banner = read_until(again, "Ctrl-C to stop")
        assert f"master key   {key}" in banner
    finally:
        assert stop_up(again, signal.SIGTERM) == 0


def logs_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "toolrelay", "logs", "--home", str(home)]


@pytest.mark.timeout(300)  # a full start and five CLI processes on a busy machine
def test_logs_shows_and_follows_what_up_started(tmp_path: Path) -> None:
    process, port = start_up(tmp_path, {})
    home = tmp_path / "home"
    follower: subprocess.Popen[str] | None = None
    try:
        read_until(process, "Ctrl-C to stop")
        logs = subprocess.run(
            [sys.executable, "-m", "toolrelay", "logs", "--home", str(home), "--no-follow"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "gateway" in logs.stdout and "INFO" in logs.stdout
        as_json = subprocess.run(
            [*logs_command(home), "--no-follow", "--json", "--service", "gateway"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        records = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert records and {r["service"] for r in records} == {"gateway"}
        errors_only = subprocess.run(
            [*logs_command(home), "--no-follow", "--level", "error", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        levels = {json.loads(line).get("level") for line in errors_only.stdout.splitlines()}
        assert levels <= {"error", "critical"}
        follower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "toolrelay",
                "logs",
                "--home",
                str(home),
                "--service",
                "gateway",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        key = (home / "master_key").read_text().strip()
        marker = f"follow-{port}"
        httpx.get(
            f"http://127.0.0.1:{port}/v1/models",
            headers={"authorization": f"Bearer {key}", "x-request-id": marker},
        )
        read_until(follower, "/v1/models")
    finally:
        if follower is not None:
            stop_up(follower, signal.SIGTERM)
        stop_up(process)
    missing = subprocess.run(
        [sys.executable, "-m", "toolrelay", "logs", "--home", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("toolrelay logs: ")
