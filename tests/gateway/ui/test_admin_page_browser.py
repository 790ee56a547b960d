"""The admin page as a person uses it, in headless Chromium against real processes: sign in,
create a key, see it listed, see spend after a request made with it, call an MCP tool.
Screenshots are kept in test-artifacts/ui/."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from testing.fake_upstream import command_args
from tests.middleware.stack import write_yaml
from tests.support.components import require_component
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER = "sk-ui-browser-master"
CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"


@dataclass
class UIStack:
    gateway: ServiceProcess
    middleware: ServiceProcess


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path) -> Iterator[UIStack]:
    tmp = tmp_path_factory.mktemp("ui-stack")
    upstream_port, mcp_port, gateway_port, middleware_port = (free_port() for _ in range(4))
    started: list[ServiceProcess] = []
    try:
        started.append(
            start_service(
                "fake-upstream",
                command_args(upstream_port),
                port=upstream_port,
                log_dir=service_log_dir,
                health_path="/health",
            )
        )
        started.append(
            start_service(
                "test-mcp",
                [
                    "-m",
                    "tests.middleware.mcp_test_server",
                    "--port",
                    str(mcp_port),
                    "--only",
                    "echo",
                ],
                port=mcp_port,
                log_dir=service_log_dir,
                health_path="/healthz",
            )
        )
        gateway_config = write_yaml(
            tmp / "gateway.yaml",
            {
                "model_list": [
                    {
                        "model_name": "ui-model",
                        "litellm_params": {
                            "model": "openai/fixed",
                            "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                            "input_cost_per_token": 0.001,
                            "output_cost_per_token": 0.002,
                        },
                    }
                ],
                "general_settings": {"master_key": MASTER, "proxy_batch_write_at": 0.2},
                "ui_settings": {"middleware_url": f"http://127.0.0.1:{middleware_port}"},
            },
        )
        gateway = start_service(
            "gateway",
            [
                "-m",
                "toolrelay",
                "gateway",
                "--config",
                str(gateway_config),
                "--port",
                str(gateway_port),
            ],
            port=gateway_port,
            log_dir=service_log_dir,
            env={"TOOLRELAY_HOME": str(tmp / "home")},
        )
        started.append(gateway)
        middleware_config = write_yaml(
            tmp / "middleware.yaml",
            {
                "middleware_settings": {"gateway_url": gateway.url},
                "mcp_servers": {"tester": {"url": f"http://127.0.0.1:{mcp_port}/mcp"}},
            },
        )
        middleware = start_service(
            "middleware",
            [
                "-m",
                "toolrelay",
                "middleware",
                "--config",
                str(middleware_config),
                "--port",
                str(middleware_port),
            ],
            port=middleware_port,
            log_dir=service_log_dir,
        )
        started.append(middleware)
        yield UIStack(gateway, middleware)
    finally:
        for service in reversed(started):
            service.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    require_component(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def wait_for_spend_row(gateway: ServiceProcess, key_alias: str, bound: float = 30.0) -> None:
    deadline = time.monotonic() + bound
    headers = {"authorization": f"Bearer {MASTER}"}
    while True:
        rows = httpx.get(f"{gateway.url}/spend/logs", headers=headers, timeout=30).json()
        if any(r.get("key_alias") == key_alias for r in rows):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no spend row for {key_alias} within {bound}s")
        time.sleep(0.05)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_create_key_see_spend_and_call_a_tool(ui_stack: UIStack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.set_default_timeout(20_000)
    page.goto(f"{ui_stack.gateway.url}/ui")

    # A wrong key is refused with a message, the right one signs in (keyboard only).
    page.fill("#master-key", "sk-wrong")
    page.keyboard.press("Enter")
    expect(page.locator("#sign-in-error")).to_contain_text("not an admin key")
    page.fill("#master-key", MASTER)
    page.keyboard.press("Enter")
    expect(page.locator("#nav")).to_be_visible()
    expect(page.locator("#view h1")).to_have_text("Models")
    expect(page.locator("#view table")).to_contain_text("ui-model")
    shot(page, "1-models")

    # Create a key; it is shown once, then listed.
    page.click("a[href='#/keys']")
    page.fill("input[name=alias]", "browser-made-key")
    page.fill("input[name=budget]", "5")
    page.click("#view button[type=submit]")
    new_key = (page.locator("#new-key-value").inner_text()).strip()
    assert new_key.startswith("sk-")
    expect(page.locator("#view table")).to_contain_text("browser-made-key")
    shot(page, "2-keys")

    # A request with the new key shows up as spend.
    reply = httpx.post(
        f"{ui_stack.gateway.url}/v1/chat/completions",
        json={
            "model": "ui-model",
            "messages": [{"role": "user", "content": "hello from the browser test"}],
        },
        headers={"authorization": f"Bearer {new_key}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    # Spend rows are written in batches: wait for the row itself (a condition on the server),
    # then open the page once. Re-clicking and reading a table while the view re-renders
    # raced on a loaded machine.
    wait_for_spend_row(ui_stack.gateway, "browser-made-key")
    page.click("a[href='#/spend']")
    expect(page.locator("#view h1")).to_have_text("Spend (last 30 days)")
    latest = page.locator("#view table").last
    expect(latest).to_contain_text("browser-made-key")
    expect(latest).to_contain_text("ui-model")
    shot(page, "3-spend")

    # Call an MCP tool through the middleware from the tools page.
    page.click("a[href='#/mcp']")
    expect(page.locator("#view table")).to_contain_text("tester")
    expect(page.locator("#view table .ok")).to_have_text("healthy")
    page.select_option("#tool-name", "echo")
    page.fill("#tool-arguments", '{"text": "typed in the admin page"}')
    page.click("#view form button[type=submit]")
    expect(page.locator("#tool-output")).to_contain_text("echo: typed in the admin page")
    shot(page, "4-mcp")
