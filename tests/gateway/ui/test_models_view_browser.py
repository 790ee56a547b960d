"""The admin page's Models view with models in the database, in headless Chromium against a
real gateway (`STORE_MODEL_IN_DB=True`, empty `model_list`) and a real fake upstream that
checks its key: add a model, Test it, edit it to a wrong key and see the upstream's error,
delete it. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from testing.fake_upstream import command_args
from tests.gateway.ui.test_admin_page_browser import CHROMIUM, CHROMIUM_ARGS, shot
from tests.middleware.stack import write_yaml
from tests.support.components import require_component
from tests.support.processes import ServiceProcess, free_port, start_service

MASTER = "sk-ui-models-master"
UPSTREAM_KEY = "sk-ui-models-upstream"
MODEL = "browser-db-model"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    tmp = tmp_path_factory.mktemp("ui-models")
    upstream_port, gateway_port = free_port(), free_port()
    upstream = start_service(
        "fake-upstream",
        command_args(upstream_port, require_key=UPSTREAM_KEY),
        port=upstream_port,
        log_dir=service_log_dir,
        health_path="/health",
    )
    try:
        config = write_yaml(
            tmp / "gateway.yaml", {"model_list": [], "general_settings": {"master_key": MASTER}}
        )
        gateway = start_service(
            "gateway",
            ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(gateway_port)],
            port=gateway_port,
            log_dir=service_log_dir,
            env={"TOOLRELAY_HOME": str(tmp / "home"), "STORE_MODEL_IN_DB": "True"},
        )
        try:
            yield gateway, upstream
        finally:
            gateway.stop()
    finally:
        upstream.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    require_component(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(page: Page, gateway: ServiceProcess) -> None:
    page.goto(f"{gateway.url}/ui#/models")
    page.fill("#master-key", MASTER)
    page.keyboard.press("Enter")
    expect(page.locator("#model-form")).to_be_visible()


def test_add_test_edit_and_delete_a_database_model(
    stack: tuple[ServiceProcess, ServiceProcess], browser: Browser
) -> None:
    gateway, upstream = stack
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, gateway)
    expect(page.locator("#stored-models")).to_contain_text("No database models yet.")

    # Add: the key is typed once and only ever shown masked.
    page.fill("#model-form input[name=model_name]", MODEL)
    page.fill("#model-form input[name=model]", "openai/fixed")
    page.fill("#model-form input[name=api_base]", f"{upstream.url}/v1")
    page.fill("#model-form input[name=api_key]", UPSTREAM_KEY)
    page.click("#model-submit")
    row = page.locator("#stored-models tr", has_text=MODEL)
    expect(row).to_contain_text("********")
    assert UPSTREAM_KEY not in page.content()

    # Test: a one-token request through the gateway.
    page.click(f"[data-test='{MODEL}']")
    result = page.locator(f"[data-test-result='{MODEL}']")
    expect(result).to_contain_text("OK: HTTP 200 in")
    shot(page, "models-1-added-and-tested")

    # Edit to a wrong key: the Test shows the upstream's own error.
    page.click(f"[data-edit='{MODEL}']")
    expect(page.locator("#model-submit")).to_have_text("Save changes")
    expect(page.locator("#model-form input[name=api_key]")).to_have_value("")
    page.fill("#model-form input[name=api_key]", "sk-not-the-upstream-key")
    page.click("#model-submit")
    expect(page.locator("#model-submit")).to_have_text("Add model")  # the view re-rendered
    page.click(f"[data-test='{MODEL}']")
    failed = page.locator(f"[data-test-result='{MODEL}']")
    expect(failed).to_contain_text("Failed: HTTP 401")
    expect(failed).to_contain_text("Incorrect API key provided")
    shot(page, "models-2-failing-test")

    # Delete: gone from the page and from the API.
    page.click(f"[data-delete='{MODEL}']")
    expect(page.locator("#stored-models")).to_contain_text("No database models yet.")
    shot(page, "models-3-deleted")
    info = httpx.get(
        f"{gateway.url}/model/info", headers={"authorization": f"Bearer {MASTER}"}, timeout=30
    ).json()
    assert [m["model_name"] for m in info["data"]] == []
