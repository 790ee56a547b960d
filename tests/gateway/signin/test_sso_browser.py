"""LiteLLM's generic SSO against a real OpenID provider (oidc-provider from npm, set up like
a Keycloak realm), driven by Chromium. Only LiteLLM's variables are set (GENERIC_*,
PROXY_BASE_URL); JWT API auth is off. The provider registers PROXY_BASE_URL/sso/callback.

Roles come from `realm_access.roles`: AI_ADMIN (mapped to proxy_admin), AI_USER (mapped to
internal_user), or a LiteLLM role name as is (proxy_admin_viewer)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.gateway.conftest import MASTER_KEY
from tests.support.chromium import chromium
from tests.support.oidc_provider import OidcProvider, start_provider
from tests.support.processes import ServiceProcess, free_port, start_service

CLIENT_ID, CLIENT_SECRET = "toolrelay-gateway", "sso-client-secret"
USERS = {
    "alice": {"roles": ["AI_ADMIN", "offline_access"]},
    "bob": {"roles": ["AI_USER"]},
    "vera": {"roles": ["proxy_admin_viewer"]},
}
ADMIN = {"authorization": f"Bearer {MASTER_KEY}"}


@dataclass
class SSOStack:
    provider: OidcProvider
    gateway: ServiceProcess


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path) -> Iterator[SSOStack]:
    tmp = tmp_path_factory.mktemp("sso")
    gateway_port = free_port()
    base_url = f"http://127.0.0.1:{gateway_port}"
    provider = start_provider(
        free_port(),
        service_log_dir,
        {
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [f"{base_url}/sso/callback"],
                }
            ],
            "users": USERS,
        },
    )
    try:
        config = tmp / "config.yaml"
        config.write_text(f"general_settings:\n  master_key: {MASTER_KEY}\n")
        env = {
            "TOOLRELAY_HOME": str(tmp / "home"),
            "GENERIC_CLIENT_ID": CLIENT_ID,
            "GENERIC_CLIENT_SECRET": CLIENT_SECRET,
            "GENERIC_AUTHORIZATION_ENDPOINT": f"{provider.issuer}/auth",
            "GENERIC_TOKEN_ENDPOINT": f"{provider.issuer}/token",
            "GENERIC_USERINFO_ENDPOINT": f"{provider.issuer}/me",
            "GENERIC_SCOPE": "openid email profile",
            "GENERIC_USER_ID_ATTRIBUTE": "preferred_username",
            "GENERIC_USER_EMAIL_ATTRIBUTE": "email",
            "GENERIC_USER_ROLE_ATTRIBUTE": "realm_access.roles",
            "PROXY_BASE_URL": base_url,
        }
        gateway = start_service(
            "gateway",
            ["-m", "toolrelay", "gateway", "--config", str(config), "--port", str(gateway_port)],
            port=gateway_port,
            log_dir=service_log_dir,
            env=env,
        )
        try:
            for user in ("bob", "carol"):
                made = httpx.post(
                    f"{gateway.url}/user/new",
                    json={"user_id": user, "key_alias": f"{user}-key"},
                    headers=ADMIN,
                    timeout=10,
                )
                assert made.status_code == 200, made.text
            yield SSOStack(provider, gateway)
        finally:
            gateway.stop()
    finally:
        provider.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()  # fresh cookies at the provider and the gateway
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def sign_in_with_sso(page: Page, stack: SSOStack, user: str) -> None:
    page.goto(f"{stack.gateway.url}/ui")
    page.get_by_role("button", name="Sign in with SSO").click()
    page.wait_for_url(f"{stack.provider.issuer}/**")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", "any password")  # the provider's own login form
    page.get_by_role("button", name="Sign-in").click()
    expect(page.locator("#nav")).to_be_visible()
    assert page.url.startswith(f"{stack.gateway.url}/ui")


def call(page: Page, path: str, method: str = "GET", body: object = None) -> int:
    """A same-origin request from the page, with the session's CSRF token (as the page does)."""
    status: int = page.evaluate(
        """async ([path, method, body]) => {
            const session = await (await fetch("/ui/session")).json();
            const init = { method, headers: { "content-type": "application/json",
                           "x-csrf-token": session.csrf_token } };
            if (body !== null) init.body = JSON.stringify(body);
            return (await fetch(path, init)).status;
        }""",
        [path, method, body],
    )
    return status


def test_admin_role_lands_on_the_page(page: Page, stack: SSOStack) -> None:
    sign_in_with_sso(page, stack, "alice")
    expect(page.locator("#whoami")).to_have_text("alice (proxy_admin)")
    expect(page.locator("a[href='#/teams']")).to_be_visible()
    assert call(page, "/team/list") == 200
    # the SSO user was recorded in the store, with the role LiteLLM would give
    info = httpx.get(
        f"{stack.gateway.url}/user/info", params={"user_id": "alice"}, headers=ADMIN, timeout=10
    )
    assert info.json()["user_info"]["user_role"] == "proxy_admin"


def test_internal_user_is_not_an_admin_and_sees_only_their_keys(
    page: Page, stack: SSOStack
) -> None:
    sign_in_with_sso(page, stack, "bob")
    expect(page.locator("#whoami")).to_have_text("bob (internal_user)")
    expect(page.locator("#view h1")).to_have_text("Keys")
    table = page.locator("#view table")
    expect(table).to_contain_text("bob-key")
    expect(table).not_to_contain_text("carol-key")
    expect(page.locator("a[href='#/teams']")).to_be_hidden()
    assert call(page, "/team/list") == 403
    assert call(page, "/key/generate", "POST", {"user_id": "carol"}) == 403

    # they manage their own keys from the page
    page.fill("input[name=alias]", "bob-made-in-browser")
    page.click("#view button[type=submit]")
    expect(page.locator("#new-key-value")).to_contain_text("sk-")
    expect(table).to_contain_text("bob-made-in-browser")
    expect(table).not_to_contain_text("carol-key")


def test_viewer_has_no_edit_buttons_and_the_api_refuses_edits(page: Page, stack: SSOStack) -> None:
    sign_in_with_sso(page, stack, "vera")
    expect(page.locator("#whoami")).to_have_text("vera (proxy_admin_viewer)")
    page.click("a[href='#/keys']")
    table = page.locator("#view table")
    expect(table).to_contain_text("bob-key")
    expect(table).to_contain_text("carol-key")
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    expect(page.get_by_role("button", name="Block")).to_have_count(0)
    expect(page.get_by_role("button", name="Create key")).to_have_count(0)
    page.click("a[href='#/teams']")
    expect(page.locator("#view h1")).to_have_text("Teams & users")
    expect(page.get_by_role("button", name="Create")).to_have_count(0)
    expect(page.locator("#view")).not_to_contain_text("false")
    assert call(page, "/key/delete", "POST", {"key_aliases": ["bob-key"]}) == 403
    assert call(page, "/team/new", "POST", {"team_alias": "nope"}) == 403
    listed = httpx.get(
        f"{stack.gateway.url}/key/list", params={"key_alias": "bob-key"}, headers=ADMIN
    )
    assert listed.json()["total_count"] == 1


def test_a_callback_this_browser_did_not_start_is_refused(page: Page, stack: SSOStack) -> None:
    page.goto(f"{stack.gateway.url}/sso/callback?code=stolen&state=forged")
    expect(page.locator("#sign-in-error")).to_contain_text("did not start it")
    expect(page.locator("#nav")).to_be_hidden()
