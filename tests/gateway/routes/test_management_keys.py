"""`/key/*` on SQLite and PostgreSQL: LiteLLM's request and response shapes, admin-only
access, keys stored hashed, and changes visible to auth at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.store import tables
from tests.gateway.store.databases import (
    CHAT,
    admin,
    bearer,
    database_url,
    gateway_config,
    postgres_database,
    running_gateway,
    state_of,
)

__all__ = ["database_url", "postgres_database"]


@pytest.mark.anyio
async def test_generate_info_and_key_stored_hashed(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (app, client):
        response = await client.post(
            "/key/generate",
            headers=admin(),
            json={
                "key_alias": "ci",
                "models": ["m"],
                "max_budget": 5,
                "duration": "1h",
                "metadata": {"mcp_servers": ["fetch"]},
                "tags": ["team-a"],
                "rpm_limit": 100,
            },
        )
        assert response.status_code == 200, response.text
        created = response.json()
        key = created["key"]
        assert key.startswith("sk-")
        assert created["token"] == hashlib.sha256(key.encode()).hexdigest()
        assert created["key_alias"] == "ci" and created["models"] == ["m"]
        assert created["max_budget"] == 5 and created["expires"] is not None

        info = (await client.get("/key/info", params={"key": key}, headers=admin())).json()
        assert info["key"] == key
        assert info["info"]["metadata"] == {"mcp_servers": ["fetch"]}
        assert info["info"]["spend"] == 0.0 and info["info"]["rpm_limit"] == 100

        # A key reads its own info with no parameter (the middleware relies on this).
        own = (await client.get("/key/info", headers=bearer(key))).json()
        assert own["info"]["token"] == created["token"] and own["info"]["key_alias"] == "ci"

        async with state_of(app).accounts.db.engine.connect() as connection:  # type: ignore[union-attr]
            rows = [r._asdict() for r in await connection.execute(select(tables.virtual_keys))]
        assert len(rows) == 1
        assert key not in str(rows) and rows[0]["token"] == created["token"]


@pytest.mark.anyio
async def test_management_needs_the_master_key(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]
        other = (await client.post("/key/generate", headers=admin(), json={})).json()["key"]

        missing = await client.post("/key/generate", json={})
        assert missing.status_code == 401
        assert missing.json()["error"]["type"] == "authentication_error"
        forbidden = await client.post("/key/generate", headers=bearer(key), json={})
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["type"] == "permission_error"
        for path in ("/key/list", "/team/list", "/user/list", "/spend/logs", "/customer/list"):
            assert (await client.get(path, headers=bearer(key))).status_code == 403, path
        foreign = await client.get("/key/info", params={"key": other}, headers=bearer(key))
        assert foreign.status_code == 403
        wrong = await client.get("/key/info", headers=bearer("sk-nope"))
        assert wrong.status_code == 401


@pytest.mark.anyio
async def test_update_block_unblock_regenerate_list_delete(
    database_url: str, tmp_path: Path
) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        key = (await client.post("/key/generate", headers=admin(), json={"key_alias": "a"})).json()[
            "key"
        ]
        assert (
            await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        ).status_code == 200

        updated = await client.post(
            "/key/update", headers=admin(), json={"key": key, "models": ["other"], "tpm_limit": 7}
        )
        assert updated.status_code == 200 and updated.json()["models"] == ["other"]
        assert updated.json()["key_alias"] == "a"  # untouched fields stay
        denied = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        assert denied.status_code == 403 and "model=m" in denied.json()["error"]["message"]

        assert (await client.post("/key/block", headers=admin(), json={"key": key})).json()[
            "blocked"
        ]
        blocked = await client.post(
            "/v1/chat/completions", headers=bearer(key), json={**CHAT, "model": "other"}
        )
        assert blocked.status_code == 401 and blocked.json()["error"]["code"] == "key_blocked"
        await client.post("/key/unblock", headers=admin(), json={"key": key})
        ok = await client.post(
            "/v1/chat/completions", headers=bearer(key), json={**CHAT, "model": "other"}
        )
        assert ok.status_code == 200

        regenerated = await client.post("/key/regenerate", headers=admin(), json={"key": key})
        assert regenerated.status_code == 200
        new_key = regenerated.json()["key"]
        assert new_key != key and regenerated.json()["key_alias"] == "a"
        assert (await client.get("/key/info", headers=bearer(key))).status_code == 401
        renewed = await client.get("/key/info", headers=bearer(new_key))
        assert renewed.status_code == 200 and renewed.json()["info"]["spend"] == 2.0
        accounts = state_of(_app).accounts
        assert accounts is not None and await accounts.writer.flush()
        async with accounts.db.engine.connect() as connection:
            stored = (await connection.execute(select(tables.virtual_keys.c.spend))).scalar()
        assert stored == 2.0  # spend queued under the old id was written before the swap

        second = (
            await client.post("/key/generate", headers=admin(), json={"user_id": "u1"})
        ).json()
        listed = (await client.get("/key/list", headers=admin())).json()
        assert listed["total_count"] == 2 and set(listed["keys"]) == {
            regenerated.json()["token"],
            second["token"],
        }
        mine = (
            await client.get(
                "/key/list", headers=admin(), params={"user_id": "u1", "return_full_object": "true"}
            )
        ).json()
        assert [k["token"] for k in mine["keys"]] == [second["token"]]

        deleted = await client.post("/key/delete", headers=admin(), json={"keys": [new_key]})
        assert deleted.json() == {"deleted_keys": [new_key]}
        assert (await client.get("/key/info", headers=bearer(new_key))).status_code == 401
        by_alias = await client.post("/key/delete", headers=admin(), json={"key_aliases": ["nope"]})
        assert by_alias.status_code == 404


@pytest.mark.anyio
async def test_expired_key_and_bad_input(database_url: str, tmp_path: Path) -> None:
    async with running_gateway(gateway_config(database_url), tmp_path) as (_app, client):
        bad = await client.post("/key/generate", headers=admin(), json={"duration": "soon"})
        assert bad.status_code == 400 and "invalid duration" in bad.json()["error"]["message"]
        bad_type = await client.post("/key/generate", headers=admin(), json={"max_budget": "x"})
        assert bad_type.status_code == 400 and bad_type.json()["error"]["param"] == "max_budget"
        key = (
            await client.post("/key/generate", headers=admin(), json={"key_alias": "dup"})
        ).json()["key"]
        dup = await client.post("/key/generate", headers=admin(), json={"key_alias": "dup"})
        assert dup.status_code == 400
        await client.post("/key/update", headers=admin(), json={"key": key, "duration": "1s"})
        # Expire it in the past directly: no waiting in tests.
        state = state_of(_app)
        async with state.accounts.db.engine.begin() as connection:  # type: ignore[union-attr]
            from datetime import UTC, datetime, timedelta

            from sqlalchemy import update

            await connection.execute(
                update(tables.virtual_keys).values(expires=datetime.now(UTC) - timedelta(seconds=1))
            )
        await state.accounts.invalidations.changed("key", hashlib.sha256(key.encode()).hexdigest())  # type: ignore[union-attr]
        expired = await client.post("/v1/chat/completions", headers=bearer(key), json=CHAT)
        assert expired.status_code == 401 and expired.json()["error"]["code"] == "key_expired"
