"""The admin page's SSO button in Chromium: PKCE in the page, round trip, signed in."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.gateway.oidc.conftest import Provider
from tests.support.components import require_component
from tests.support.processes import ServiceProcess

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_component(os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_sso_button_signs_an_admin_in(
    page: Page, gateway: ServiceProcess, provider: Provider
) -> None:
    provider.roles = ["AI_ADMIN"]
    page.goto(f"{gateway.url}/ui")
    page.get_by_role("button", name="Sign in with SSO").click()
    expect(page.locator("#nav")).to_be_visible(timeout=15_000)
    assert page.url.endswith("/ui#/models")
    stored = page.evaluate("sessionStorage.getItem('toolrelay.key')")
    assert stored and stored.count(".") == 2


def test_sso_without_admin_role_shows_why(
    page: Page, gateway: ServiceProcess, provider: Provider
) -> None:
    provider.roles = ["AI_USER"]
    page.goto(f"{gateway.url}/ui")
    page.get_by_role("button", name="Sign in with SSO").click()
    expect(page.locator("#sign-in-error")).to_contain_text("no admin role", timeout=15_000)
    expect(page.locator("#nav")).to_be_hidden()
