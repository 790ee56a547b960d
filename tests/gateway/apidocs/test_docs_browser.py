"""`/docs` and `/redoc` render in Chromium from a real gateway process, and no request the
pages make leaves 127.0.0.1 (the assets come from a package, not a CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect

from tests.gateway.conftest import MASTER_KEY, start_gateway
from tests.support.chromium import chromium
from tests.support.processes import ServiceProcess


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    config: dict[str, object] = {"general_settings": {"master_key": MASTER_KEY}}
    service = start_gateway(config, tmp_path_factory.mktemp("docs"), service_log_dir)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_swagger_ui_renders_with_every_request_on_loopback(
    gateway: ServiceProcess, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.goto(f"{gateway.url}/docs")
    operation = page.locator(".opblock-summary-path", has_text="/v1/chat/completions").first
    expect(operation).to_be_visible(timeout=20_000)
    operation.click()  # expands: the operation's details render too
    expect(page.locator(".opblock-body").first).to_be_visible()
    expect(page.locator(".title").first).to_contain_text("toolrelay gateway")
    context.close()
    assert requested, "the page made no requests at all"
    assert {urlsplit(url).hostname for url in requested if not url.startswith("data:")} == {
        "127.0.0.1"
    }, requested
    assert f"{gateway.url}/openapi.json" in requested
    assert violations == []


def test_redoc_renders_with_every_request_on_loopback(
    gateway: ServiceProcess, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{gateway.url}/redoc")
    expect(page.locator("h1", has_text="toolrelay gateway").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("/v1/chat/completions").first).to_be_attached()
    context.close()
    hosts = {urlsplit(url).hostname for url in requested if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requested
