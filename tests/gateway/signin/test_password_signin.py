"""Password sign-in, the session cookie and CSRF, in process against a real store (SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import structlog
from starlette.applications import Starlette

from tests.gateway.store.databases import admin, gateway_config, running_gateway

USER, PASSWORD = "ops", "correct horse battery staple"
ENV = {"UI_USERNAME": USER, "UI_PASSWORD": PASSWORD}


@pytest.fixture
async def gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = gateway_config(f"sqlite:///{tmp_path / 'store.db'}")
    async with running_gateway(config, tmp_path) as running:
        yield running


async def sign_in(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/ui/login", json={"username": USER, "password": password})


@pytest.mark.anyio
async def test_sign_in_sets_a_strict_http_only_cookie_and_manages_keys_with_csrf(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    _, client = gateway
    signed = await sign_in(client)
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert (body["role"], body["user_id"], body["may_change"]) == ("proxy_admin", USER, True)
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert PASSWORD not in cookie

    # Reads need only the cookie; changes need the session's CSRF token too.
    assert (await client.get("/key/list")).status_code == 200
    refused = await client.post("/key/generate", json={"key_alias": "no-csrf"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_failed")
    wrong = await client.post(
        "/key/generate", json={"key_alias": "bad"}, headers={"x-csrf-token": "guess"}
    )
    assert wrong.status_code == 403
    made = await client.post(
        "/key/generate",
        json={"key_alias": "by-cookie"},
        headers={"x-csrf-token": body["csrf_token"]},
    )
    assert made.status_code == 200, made.text

    # A key in a header is judged by the key, with or without the cookie.
    assert (await client.post("/team/new", json={}, headers=admin())).status_code == 200

    session = (await client.get("/ui/session")).json()
    assert session["signed_in"] and session["sign_in"] == {"password": True, "sso": None}

    out = await client.post("/ui/logout", headers={"x-csrf-token": body["csrf_token"]})
    assert out.status_code == 200 and "Max-Age=0" in out.headers["set-cookie"]
    client.cookies.clear()
    assert (await client.get("/key/list")).status_code == 401
    assert (await client.get("/ui/session")).json()["signed_in"] is False


@pytest.mark.anyio
async def test_wrong_password_is_refused_rate_limited_and_never_logged(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    _, client = gateway
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            refused = await sign_in(client, "wrong-password-123")
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "invalid_credentials"
            assert "set-cookie" not in refused.headers
        limited = await sign_in(client)  # even the right password waits now
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "wrong-password-123" not in repr(logs) and PASSWORD not in repr(logs)
    assert any(entry["event"] == "admin page sign-in refused" for entry in logs)


@pytest.mark.anyio
async def test_sign_in_from_another_origin_and_bad_bodies_are_refused(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    _, client = gateway
    foreign = await client.post(
        "/ui/login",
        json={"username": USER, "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert (await client.post("/ui/login", json={"username": USER})).status_code == 400
    assert (await client.post("/ui/login", content=b"not json")).status_code == 400


@pytest.mark.anyio
async def test_a_forged_or_tampered_cookie_is_not_a_session(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    _, client = gateway
    value = (await sign_in(client)).cookies["toolrelay_session"]
    payload, _, signature = value.partition(".")
    client.cookies.clear()
    for forged in (f"{payload}.{signature[:-2]}xx", f"{payload[:-2]}xx.{signature}", "x.y"):
        client.cookies.set("toolrelay_session", forged)
        assert (await client.get("/key/list")).status_code == 401
        client.cookies.clear()


@pytest.mark.anyio
async def test_the_cookie_is_secure_behind_https(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, _ = gateway
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://gw") as tls:
        assert "Secure" in (await sign_in(tls)).headers["set-cookie"]
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as proxied:
        behind = await proxied.post(
            "/ui/login",
            json={"username": USER, "password": PASSWORD},
            headers={"x-forwarded-proto": "https"},
        )
        assert "Secure" in behind.headers["set-cookie"]
