"""A cached key's Principal is made once and reused while the cache holds the same entity;
a changed entity (a new object in the cache) gets a new Principal, and a blocked one is
refused."""

from __future__ import annotations

from typing import cast

import pytest

from gateway.errors import AuthenticationError
from gateway.keys.authenticator import VirtualKeyAuthenticator
from gateway.keys.cache import EntityCache
from gateway.keys.hashing import hash_presented_key
from gateway.keys.model import Entity, Limits
from gateway.limits.ledger import MemoryLedger
from gateway.store.database import Database

KEY = "sk-virtual-test"
HEADERS = {"authorization": f"Bearer {KEY}"}


def _authenticator() -> tuple[VirtualKeyAuthenticator, EntityCache]:
    # get/put never touch the database: no store is needed for cached keys
    cache = EntityCache(db=cast(Database, None), ledger=MemoryLedger())
    return VirtualKeyAuthenticator(master_key="sk-master", cache=cache), cache


@pytest.mark.anyio
async def test_a_cached_key_reuses_its_principal_until_its_entity_changes() -> None:
    auth, cache = _authenticator()
    token = hash_presented_key(KEY)
    cache.put(Entity(kind="key", id=token, limits=Limits(max_budget=5.0), alias="first"))

    principal = await auth.authenticate(HEADERS)
    assert await auth.authenticate(HEADERS) is principal
    assert (principal.token, principal.key_alias, principal.max_budget) == (token, "first", 5.0)

    cache.put(Entity(kind="key", id=token, limits=Limits(max_budget=9.0), alias="second"))
    changed = await auth.authenticate(HEADERS)
    assert (changed.key_alias, changed.max_budget) == ("second", 9.0)

    cache.put(Entity(kind="key", id=token, limits=Limits(blocked=True)))
    with pytest.raises(AuthenticationError) as refused:
        await auth.authenticate(HEADERS)
    assert refused.value.code == "key_blocked"
