"""The sign-in endpoints, driven the way the page drives them (PKCE made here)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.gateway.oidc.conftest import CLIENT_ID, Provider, s256
from tests.support.processes import ServiceProcess


def authorize(provider: Provider, gateway: ServiceProcess, verifier: str) -> tuple[str, str]:
    """What the browser does at the provider: returns (code, redirect_uri)."""
    redirect_uri = f"{gateway.url}/ui"
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": "xyz",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    answer = httpx.get(f"{provider.url}/authorize?{urlencode(query)}", follow_redirects=False)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    params = parse_qs(back.query)
    assert params["state"] == ["xyz"]
    return params["code"][0], redirect_uri


def exchange(
    gateway: ServiceProcess, code: str, verifier: str, redirect_uri: str
) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/ui/oidc/token",
        json={"code": code, "code_verifier": verifier, "redirect_uri": redirect_uri},
        timeout=10,
    )


def test_config_is_public_and_has_no_secret(gateway: ServiceProcess, provider: Provider) -> None:
    config = httpx.get(f"{gateway.url}/ui/oidc/config").json()
    assert config == {
        "enabled": True,
        "client_id": CLIENT_ID,
        "authorization_endpoint": f"{provider.url}/authorize",
        "scope": "openid profile",
    }


def test_admin_signs_in_and_uses_the_token(gateway: ServiceProcess, provider: Provider) -> None:
    provider.roles = ["AI_ADMIN"]
    verifier = secrets.token_urlsafe(48)
    code, redirect_uri = authorize(provider, gateway, verifier)
    answer = exchange(gateway, code, verifier, redirect_uri)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    assert answer.json()["user_id"] == "sso-admin"
    listed = httpx.get(
        f"{gateway.url}/key/list", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert listed.status_code == 200


def test_wrong_verifier_is_refused(gateway: ServiceProcess, provider: Provider) -> None:
    provider.roles = ["AI_ADMIN"]
    verifier = secrets.token_urlsafe(48)
    code, redirect_uri = authorize(provider, gateway, verifier)
    answer = exchange(gateway, code, secrets.token_urlsafe(48), redirect_uri)
    assert answer.status_code == 401
    assert "PKCE" in answer.json()["error"]["message"]


def test_non_admin_account_is_refused(gateway: ServiceProcess, provider: Provider) -> None:
    provider.roles = ["AI_USER"]
    verifier = secrets.token_urlsafe(48)
    code, redirect_uri = authorize(provider, gateway, verifier)
    answer = exchange(gateway, code, verifier, redirect_uri)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "admin_only")


def test_bad_requests_are_clear(gateway: ServiceProcess) -> None:
    short = exchange(gateway, "c", "too-short", f"{gateway.url}/ui")
    assert short.status_code == 400 and "code_verifier" in short.json()["error"]["message"]
    elsewhere = exchange(gateway, "c", "v" * 43, "http://evil.example/callback")
    assert elsewhere.status_code == 400 and "redirect_uri" in elsewhere.json()["error"]["message"]
