"""Faults of MCP servers and storage, through the whole loop (real processes): each ends
as a tool error the model reads, and the answer completes. Never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from tests.middleware.stack import MASTER_KEY, Stack, running_middleware, write_yaml
from tests.middleware.test_e2e_artifacts import _tool_results, _wait_healthy
from tests.support.processes import ServiceProcess, free_port, start_service, stop_process
from tests.support.seaweedfs import require_seaweedfs, seaweedfs

TOOL_TIMEOUT = 2


@pytest.fixture(scope="module")
def faulty_middleware(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    directory = tmp_path_factory.mktemp("faults")
    port = free_port()
    proxy = start_service(
        "faulty-mcp-proxy",
        [
            "-m",
            "tests.middleware.faulty_mcp_proxy",
            "--port",
            str(port),
            "--upstream",
            stack.mcp["test"].url,
        ],
        port=port,
        log_dir=service_log_dir,
        health_path="/healthz",
    )
    try:
        config = {
            "general_settings": {"master_key": MASTER_KEY},
            "mcp_servers": {"faulty": {"url": f"{proxy.url}/mcp", "timeout": TOOL_TIMEOUT}},
            "middleware_settings": {
                "gateway_url": stack.gateway.url,
                "breaker_threshold": 100,
                "heartbeat_interval": 0.2,
            },
            "storage": {"local_dir": str(directory / "artifacts")},
        }
        with running_middleware(write_yaml(directory / "mw.yaml", config), service_log_dir) as mw:
            _wait_healthy(mw)
            yield mw
    finally:
        proxy.stop()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("hang", f"timed out after {TOOL_TIMEOUT}s"),
        ("html_502", "no usable answer"),
        ("invalid_jsonrpc", "no usable answer"),
        ("truncated_sse", "no usable answer"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_a_broken_server_is_a_tool_error_and_the_answer_completes(
    stack: Stack, faulty_middleware: ServiceProcess, kind: str, expected: str, stream: bool
) -> None:
    stack.script(
        "mw-fault",
        [
            {"tool_calls": [{"name": "garbage", "arguments": {"kind": kind}}]},
            {"text": "The tool failed; here is what I know."},
        ],
    )
    client = OpenAI(
        base_url=f"{faulty_middleware.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=60
    )
    messages = [{"role": "user", "content": "use the tool"}]

    if stream:
        chunks = list(
            client.chat.completions.create(model="mw-fault", messages=messages, stream=True)  # type: ignore[arg-type]
        )
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert content.endswith("The tool failed; here is what I know.")
        assert 'name="garbage"' in content
    else:
        reply = client.chat.completions.create(model="mw-fault", messages=messages)  # type: ignore[arg-type]
        assert reply.choices[0].message.content == "The tool failed; here is what I know."
    (result,) = _tool_results(stack, "mw-fault")
    assert result.startswith("Tool error"), result
    assert expected in result


def test_storage_down_while_an_image_is_stored_is_a_tool_error(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> None:
    require_seaweedfs()
    directory = tmp_path_factory.mktemp("s3-down")
    with seaweedfs(directory / "weed") as s3:
        storage = {
            "backend": "s3",
            "endpoint": s3.url,
            "bucket": "toolrelay-down",
            "access_key": s3.access_key,
            "secret_key": s3.secret_key,
            "region": s3.region,
        }
        config = {
            "general_settings": {"master_key": MASTER_KEY},
            "mcp_servers": {"test": {"url": f"{stack.mcp['test'].url}/mcp"}},
            "middleware_settings": {"gateway_url": stack.gateway.url},
            "storage": storage,
        }
        path = write_yaml(directory / "mw.yaml", config)
        with running_middleware(path, service_log_dir) as middleware:
            _wait_healthy(middleware)
            stop_process(s3.process)  # S3 goes away while the middleware runs
            stack.script(
                "mw-s3-down",
                [
                    {"tool_calls": [{"name": "picture", "arguments": {}}]},
                    {"text": "The picture could not be saved."},
                ],
            )
            response = httpx.post(
                f"{middleware.url}/v1/chat/completions",
                json={"model": "mw-s3-down", "messages": [{"role": "user", "content": "draw"}]},
                headers={"Authorization": f"Bearer {MASTER_KEY}"},
                timeout=120,
            )
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "The picture could not be saved."
    (result,) = _tool_results(stack, "mw-s3-down")
    assert result.startswith("Tool error (storage):"), result
    assert "object storage is unavailable" in result
