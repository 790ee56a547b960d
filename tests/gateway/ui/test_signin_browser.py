"""Password sign-in on the admin page in Chromium (UI_USERNAME/UI_PASSWORD): a wrong password
is refused, the right one signs in with a session cookie the page cannot read, changes work
(the page sends the CSRF token), and sign-out ends the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.gateway.conftest import MASTER_KEY
from tests.support.chromium import chromium
from tests.support.processes import ServiceProcess, free_port, start_service

USERNAME, PASSWORD = "ops", "a long admin password"


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    tmp = tmp_path_factory.mktemp("password-ui")
    config = tmp / "config.yaml"
    config.write_text(f"general_settings:\n  master_key: {MASTER_KEY}\n")
    port = free_port()
    service = start_service(
        "gateway",
        ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(port)],
        port=port,
        log_dir=service_log_dir,
        env={"TOOLRELAY_HOME": str(tmp / "home"), "UI_USERNAME": USERNAME, "UI_PASSWORD": PASSWORD},
    )
    yield service
    service.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()


def session(page: Page) -> dict[str, object]:
    data: dict[str, object] = page.evaluate("async () => (await fetch('/ui/session')).json()")
    return data


def test_password_sign_in_wrong_password_and_sign_out(page: Page, gateway: ServiceProcess) -> None:
    page.goto(f"{gateway.url}/ui")
    page.fill("#ui-username", USERNAME)
    page.fill("#ui-password", "not the password")
    page.get_by_role("button", name="Sign in with password").click()
    expect(page.locator("#sign-in-error")).to_have_text("Wrong username or password.")
    expect(page.locator("#nav")).to_be_hidden()

    page.fill("#ui-username", USERNAME)
    page.fill("#ui-password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#nav")).to_be_visible()
    expect(page.locator("#whoami")).to_have_text(f"{USERNAME} (proxy_admin)")
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
    cookie = next(c for c in page.context.cookies() if c["name"] == "toolrelay_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # A change from the page goes through (it carries the CSRF token).
    page.click("a[href='#/keys']")
    page.fill("input[name=alias]", "made-after-password-sign-in")
    page.click("#view button[type=submit]")
    expect(page.locator("#new-key-value")).to_contain_text("sk-")
    expect(page.locator("#view table")).to_contain_text("made-after-password-sign-in")

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#nav")).to_be_hidden()
    page.wait_for_function(
        "async () => !(await (await fetch('/ui/session')).json()).signed_in", polling=200
    )
    page.reload()
    expect(page.locator("#sign-in")).to_be_visible()
    assert session(page)["signed_in"] is False
    status = page.evaluate("async () => (await fetch('/key/list')).status")
    assert status == 401
