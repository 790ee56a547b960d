"""LiteLLM's roles, enforced by the API for people signed in with a session: an internal
user sees and manages only their own keys; viewers change nothing. Sessions are made with the
gateway's own codec (as SSO sign-in makes them) against a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.signin.session import COOKIE
from tests.gateway.store.databases import admin, gateway_config, running_gateway, state_of


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    config = gateway_config(f"sqlite:///{tmp_path / 'store.db'}")
    async with running_gateway(config, tmp_path) as (app, client):
        for user in ("bob", "carol"):
            made = await client.post(
                "/user/new", json={"user_id": user, "key_alias": f"{user}-key"}, headers=admin()
            )
            assert made.status_code == 200, made.text
        yield app, client


def as_person(app: Starlette, user_id: str, role: str) -> dict[str, str]:
    codec = state_of(app).sessions
    session = codec.new(user_id, role, "sso")
    return {"cookie": f"{COOKIE}={codec.encode(session)}", "x-csrf-token": session.csrf}


async def aliases(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    listed = await client.get("/key/list", params={"return_full_object": "true"}, headers=headers)
    assert listed.status_code == 200, listed.text
    return {k["key_alias"] for k in listed.json()["keys"]}


@pytest.mark.anyio
async def test_internal_user_sees_and_manages_only_their_own_keys(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = gateway
    bob = as_person(app, "bob", "internal_user")
    assert await aliases(client, bob) == {"bob-key"}
    # even asking for carol's keys by filter gives bob's
    carols = await client.get("/key/list", params={"user_id": "carol"}, headers=bob)
    assert carols.json()["total_count"] == 1

    made = await client.post("/key/generate", json={"key_alias": "bob-second"}, headers=bob)
    assert made.status_code == 200 and made.json()["user_id"] == "bob"
    for_carol = await client.post("/key/generate", json={"user_id": "carol"}, headers=bob)
    assert (for_carol.status_code, for_carol.json()["error"]["code"]) == (403, "not_your_resource")

    everyone = await client.get("/key/list", params={"return_full_object": "true"}, headers=admin())
    carol_key = next(k["token"] for k in everyone.json()["keys"] if k["key_alias"] == "carol-key")
    refused = await client.post("/key/delete", json={"keys": [carol_key]}, headers=bob)
    assert refused.status_code == 403
    assert (
        await client.post("/key/delete", json={"keys": [made.json()["key"]]}, headers=bob)
    ).status_code == 200

    assert (await client.get("/team/list", headers=bob)).status_code == 403
    assert (
        await client.get("/user/info", params={"user_id": "carol"}, headers=bob)
    ).status_code == 403
    own = await client.get("/user/info", headers=bob)
    assert own.status_code == 200 and own.json()["user_id"] == "bob"
    assert (await client.get("/spend/logs", headers=bob)).status_code == 200
    assert (await client.get("/spend/tags", headers=bob)).status_code == 403


@pytest.mark.anyio
async def test_viewers_read_but_cannot_change_anything(
    gateway: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = gateway
    viewer = as_person(app, "vera", "proxy_admin_viewer")
    assert await aliases(client, viewer) == {"bob-key", "carol-key"}
    assert (await client.get("/team/list", headers=viewer)).status_code == 200
    for path, body in (
        ("/key/generate", {}),
        ("/key/delete", {"key_aliases": ["bob-key"]}),
        ("/key/block", {"key": "sk-anything"}),
        ("/team/new", {}),
        ("/user/new", {"user_id": "mallory"}),
    ):
        refused = await client.post(path, json=body, headers=viewer)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "read_only_role"), (
            path
        )

    own_viewer = as_person(app, "bob", "internal_user_viewer")
    assert await aliases(client, own_viewer) == {"bob-key"}
    refused = await client.post("/key/generate", json={}, headers=own_viewer)
    assert refused.status_code == 403
    assert await aliases(client, admin()) == {"bob-key", "carol-key"}  # nothing changed
