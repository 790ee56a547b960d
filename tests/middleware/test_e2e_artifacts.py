"""Artifacts end to end: a real browser screenshot as a local signed URL, and images in S3
(SeaweedFS) as presigned URLs."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.mcp_servers.site import Site, running_site
from tests.middleware.stack import MASTER_KEY, Stack, running_middleware, write_yaml
from tests.support.components import require_component
from tests.support.processes import ServiceProcess, free_port, start_service
from tests.support.seaweedfs import require_seaweedfs, seaweedfs

CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium")


def _wait_healthy(middleware: ServiceProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(
            f"{middleware.url}/mcp/tools/list", headers={"Authorization": f"Bearer {MASTER_KEY}"}
        ).json()
        if all(s["health"] == "healthy" for s in body["servers"]):
            return
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def _middleware_config(
    stack: Stack, servers: dict[str, Any], storage: dict[str, Any]
) -> dict[str, Any]:
    return {
        "general_settings": {"master_key": MASTER_KEY},
        "mcp_servers": servers,
        "middleware_settings": {"gateway_url": stack.gateway.url, "tool_timeout": 30},
        "storage": storage,
    }


def _tool_results(stack: Stack, model: str) -> list[str]:
    body = stack.received(model)[-1]
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def _url_in(result: str) -> str:
    return result[result.index("http") : result.rindex("]")]


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with running_site() as running:
        yield running


@pytest.fixture(scope="module")
def browser_middleware(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    require_component(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}")
    directory = tmp_path_factory.mktemp("browser")
    port = free_port()
    browser_config = write_yaml(
        directory / "browser.yaml",
        {
            "mcp_server_settings": {
                "browser": {"allow_hosts": ["localhost"], "executable_path": CHROMIUM}
            }
        },
    )
    browser = start_service(
        "browser-mcp",
        ["-m", "mcp_servers.cli", "browser", "--port", str(port), "--config", str(browser_config)],
        port=port,
        log_dir=service_log_dir,
        health_path="/healthz",
        timeout=60,
    )
    try:
        config = write_yaml(
            directory / "middleware.yaml",
            _middleware_config(
                stack,
                {"browser": {"url": f"{browser.url}/mcp"}},
                {"local_dir": str(directory / "artifacts")},
            ),
        )
        with running_middleware(config, service_log_dir) as middleware:
            _wait_healthy(middleware)
            yield middleware
    finally:
        browser.stop()


def test_browser_screenshot_becomes_a_signed_url_to_a_png(
    stack: Stack, site: Site, browser_middleware: ServiceProcess
) -> None:
    page = f"http://localhost:{site.port}/page.html"
    stack.script(
        "mw-browser",
        [
            {"tool_calls": [{"name": "browser_navigate", "arguments": {"url": page}}]},
            {"tool_calls": [{"name": "browser_screenshot", "arguments": {}}]},
            {"text": "here it is"},
        ],
    )
    client = OpenAI(
        base_url=f"{browser_middleware.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=90
    )

    reply = client.chat.completions.create(
        model="mw-browser", messages=[{"role": "user", "content": "screenshot the page"}]
    )

    assert reply.choices[0].message.content == "here it is"
    navigate, screenshot = _tool_results(stack, "mw-browser")
    assert not navigate.startswith("Tool error"), navigate
    url = _url_in(screenshot)
    assert url.startswith(f"{browser_middleware.url}/files/")
    png = httpx.get(url)
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and len(png.content) > 1000
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert httpx.get(tampered).status_code == 403
    expired = url.replace("expires=", "expires=1")
    assert httpx.get(expired).status_code == 403


def test_s3_backend_returns_presigned_urls(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> None:
    require_seaweedfs()
    directory = tmp_path_factory.mktemp("s3")
    with seaweedfs(directory / "weed") as s3:
        storage = {
            "backend": "s3",
            "endpoint": s3.url,
            "bucket": "toolrelay-artifacts",
            "access_key": s3.access_key,
            "secret_key": s3.secret_key,
            "region": s3.region,
            "presign_expiry": 600,
        }
        config = write_yaml(
            directory / "middleware.yaml",
            _middleware_config(stack, {"test": {"url": f"{stack.mcp['test'].url}/mcp"}}, storage),
        )
        with running_middleware(config, service_log_dir) as middleware:
            _wait_healthy(middleware)
            stack.script(
                "mw-s3",
                [
                    {
                        "tool_calls": [
                            {"name": "picture", "arguments": {}},
                            {"name": "big_text", "arguments": {"size": 30000}},
                        ]
                    },
                    {"text": "ok"},
                ],
            )
            client = OpenAI(
                base_url=f"{middleware.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=60
            )
            client.chat.completions.create(
                model="mw-s3", messages=[{"role": "user", "content": "x"}]
            )

            picture, big = _tool_results(stack, "mw-s3")
            url = _url_in(picture)
            assert url.startswith(f"{s3.url}/toolrelay-artifacts/")
            assert "X-Amz-Signature=" in url
            png = httpx.get(url)
            assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
            assert (
                httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403
            )
            assert "Full result: " in big, big[-300:]
            full = httpx.get(big[big.index("Full result: ") + 13 : big.rindex("]")])
            assert full.status_code == 200 and len(full.text) == 30000
