"""The limits hook's checks follow the cached entity: reused while it is the same object,
rebuilt from the new limits once the cache holds a changed one."""

from __future__ import annotations

from typing import cast

from gateway.auth import Principal
from gateway.hooks import CallRecord
from gateway.keys.cache import EntityCache
from gateway.keys.model import Entity, Limits
from gateway.limits.hook import LimitsHook
from gateway.limits.ledger import MemoryLedger
from gateway.spend.prices import PriceTable
from gateway.store.database import Database

TOKEN = "a" * 64


def _record() -> CallRecord:
    principal = Principal(kind="virtual_key", is_admin=False, token=TOKEN)
    return CallRecord(
        request_id="r", principal=principal, call_type="chat", model_group="m", body={}
    )


def test_checks_follow_the_cached_entity() -> None:
    ledger = MemoryLedger()
    cache = EntityCache(db=cast(Database, None), ledger=ledger)  # get/put only
    hook = LimitsHook(cache, ledger, PriceTable(providers={}), lambda _group: [])
    cache.put(Entity(kind="key", id=TOKEN, limits=Limits(rpm_limit=5)))

    (first,) = hook.checks_for(_record())
    (again,) = hook.checks_for(_record())
    assert again is first and first.rpm_limit == 5

    cache.put(Entity(kind="key", id=TOKEN, limits=Limits(rpm_limit=7, max_budget=1.0)))
    (changed,) = hook.checks_for(_record())
    assert (changed.rpm_limit, changed.max_budget) == (7, 1.0)
