"""`toolrelay up` serving a chat (with MCP traffic) prints nothing but JSON log lines once
its banner is out: gateway, middleware, uvicorn, httpx2 and the MCP SDK alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from openai import OpenAI

from tests.support.processes import ServiceProcess, free_port, start_service
from tests.testing.fake_upstream.harness import running_fake_upstream
from tests.toolrelay.test_cli import mcp_port_base

BANNER_END = "Ctrl-C to stop"


class Output:
    """Every line the process prints (stdout and stderr merged), read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.banner_done = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))
            if BANNER_END in line:
                self.banner_done.set()

    def join(self) -> None:
        self._thread.join(30)


@pytest.fixture
def fetch_server(tmp_path: Path) -> Iterator[ServiceProcess]:
    port = free_port()
    service = start_service(
        "fetch-mcp",
        ["-m", "mcp_servers.cli", "fetch", "--port", str(port)],
        port=port,
        log_dir=tmp_path,
        health_path="/healthz",
    )
    try:
        yield service
    finally:
        service.stop()


def test_every_line_while_serving_a_chat_is_json(
    tmp_path: Path, fetch_server: ServiceProcess
) -> None:
    with running_fake_upstream(tmp_path) as upstream:
        gateway_port, middleware_port = free_port(), free_port()
        config = tmp_path / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "model_list": [
                        {
                            "model_name": "logs-model",
                            "litellm_params": {
                                "model": "openai/logs-model",
                                "api_base": f"{upstream.url}/v1",
                                "api_key": "fake",
                            },
                        }
                    ],
                    "mcp_servers": {"fetch": {"url": f"{fetch_server.url}/mcp"}},
                    "middleware_settings": {"gateway_url": f"http://127.0.0.1:{gateway_port}"},
                }
            )
        )
        script = [
            {"tool_calls": [{"name": "fetch_url", "arguments": {"url": "http://127.0.0.1:9/"}}]},
            {"text": "done"},
        ]
        httpx.post(
            f"{upstream.url}/__fake__/script", json={"model": "logs-model", "replies": script}
        ).raise_for_status()
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env["LITELLM_MASTER_KEY"] = "sk-logs-test"
        argv = ["up", "--config", str(config), "--home", str(tmp_path / "home")]
        argv += ["--gateway-port", str(gateway_port), "--middleware-port", str(middleware_port)]
        argv += ["--mcp-port-base", str(mcp_port_base())]
        process = subprocess.Popen(
            [sys.executable, "-m", "toolrelay", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        output = Output(process)
        try:
            assert output.banner_done.wait(90), "\n".join(output.lines)
            served_from = len(output.lines)
            client = OpenAI(
                base_url=f"http://127.0.0.1:{middleware_port}/v1",
                api_key="sk-logs-test",
                max_retries=0,
                timeout=60,
            )
            reply = client.chat.completions.create(
                model="logs-model", messages=[{"role": "user", "content": "fetch it"}]
            )
            assert reply.choices[0].message.content == "done"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            output.join()
            assert process.stdout is not None
            process.stdout.close()
    while_serving = [
        line for line in output.lines[served_from:] if line and line != "toolrelay: stopping..."
    ]
    records = []
    for line in while_serving:
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line!r}\nall output:\n" + "\n".join(output.lines))
    events = [r.get("event") for r in records]
    assert "request" in events  # the gateway's access line
    assert "tool call" in events  # the middleware's tool line
    # The per-request MCP HTTP lines are debug, so absent at the default level.
    assert not [r for r in records if str(r.get("event", "")).startswith("HTTP Request")]
    # Each request's lines carry its request id.
    tool_line = next(r for r in records if r.get("event") == "tool call")
    assert tool_line["request_id"]
