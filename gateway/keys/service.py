"""Management operations on keys, teams, users and end users: validate, write the database,
then refresh the cache everywhere (through `Invalidations`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from gateway.errors import BadRequestError, NotFoundError, ServiceUnavailableError
from gateway.keys.cache import TABLES, EntityCache
from gateway.keys.hashing import display_name, hash_key, new_key
from gateway.keys.invalidation import Invalidations
from gateway.keys.model import Entity, EntityKind
from gateway.keys.views import view
from gateway.keys.wire import LIMIT_FIELDS
from gateway.limits.calendar import next_reset_at
from gateway.limits.durations import DurationError, parse_duration
from gateway.limits.ledger import LocalCounters
from gateway.store.database import StoreUnavailableError
from gateway.store.repository import (
    DuplicateError,
    RefusedValueError,
    delete_rows,
    fetch_where,
    insert_row,
    replace_pk,
    update_row,
)

if TYPE_CHECKING:
    from gateway.limits.redis_counters import RedisCounters

_COLUMNS: dict[EntityKind, tuple[str, ...]] = {
    "key": (*LIMIT_FIELDS, "key_alias", "team_id", "user_id", "tags"),
    "team": (*LIMIT_FIELDS, "team_alias"),
    "user": (*LIMIT_FIELDS, "user_email", "user_role", "user_alias", "teams"),
    "end_user": (*LIMIT_FIELDS, "alias"),
}
_DEFAULTS: dict[str, Any] = {
    "models": [],
    "metadata": {},
    "blocked": False,
    "tags": [],
    "teams": [],
}


def _duration(text: str, field: str) -> datetime:
    try:
        return datetime.now(UTC) + parse_duration(text)
    except DurationError as exc:
        raise BadRequestError(str(exc), param=field) from None


def _budget_reset(text: str, field: str) -> datetime:
    try:
        return next_reset_at(text, datetime.now(UTC))
    except DurationError as exc:
        raise BadRequestError(str(exc), param=field) from None


def column_values(kind: EntityKind, body: BaseModel, *, creating: bool) -> dict[str, Any]:
    """Only the fields the caller sent (so an update never resets what it did not name)."""
    sent = body.model_fields_set
    dumped = body.model_dump()  # nested models (model_max_budget entries) become JSON
    values = {name: dumped[name] for name in _COLUMNS[kind] if name in sent}
    for model, budget in (values.get("model_max_budget") or {}).items():
        period = budget.get("time_period") if isinstance(budget, dict) else None
        if period:
            _budget_reset(period, f"model_max_budget.{model}.time_period")
    for name, default in _DEFAULTS.items():
        if name in _COLUMNS[kind] and values.get(name, ...) is None:
            values[name] = default
    if creating:
        for name, default in _DEFAULTS.items():
            if name in _COLUMNS[kind]:
                values.setdefault(name, default)
    if "budget_duration" in sent:
        duration = getattr(body, "budget_duration", None)
        values["budget_reset_at"] = _budget_reset(duration, "budget_duration") if duration else None
    if kind == "key" and "duration" in sent:
        duration = getattr(body, "duration", None)
        values["expires"] = _duration(duration, "duration") if duration else None
    if kind == "team" and "members_with_roles" in sent:
        values["members"] = getattr(body, "members_with_roles", None) or []
    if "spend" in sent and getattr(body, "spend", None) is not None:
        values["spend"] = body.spend  # type: ignore[attr-defined]
    return values


def _unavailable(exc: StoreUnavailableError) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The database is unavailable; management changes cannot be saved right now.",
        code="database_unavailable",
    )


@dataclass
class Management:
    cache: EntityCache
    invalidations: Invalidations
    counters: LocalCounters | RedisCounters | None = None
    # Regeneration changes a key's id: queued spend is written under the old id first.
    flush_spend: Callable[[], Awaitable[bool]] | None = None

    def spend(self, entity: Entity) -> float:
        return self.cache.ledger.spend((entity.kind, entity.id))

    def show(self, entity: Entity) -> dict[str, Any]:
        return view(entity, self.spend(entity))

    async def get(self, kind: EntityKind, entity_id: str) -> Entity:
        entity = self.cache.get(kind, entity_id)
        if entity is None:
            try:
                entity = await self.cache.reload(kind, entity_id)
            except StoreUnavailableError as exc:
                raise _unavailable(exc) from exc
        if entity is None:
            raise NotFoundError(
                f"{kind.replace('_', ' ')} not found: {entity_id}", code="not_found"
            )
        if self.counters is not None:
            await self.counters.refresh((kind, entity_id))
        return entity

    async def _changed(self, kind: EntityKind, entity_id: str, values: Mapping[str, Any]) -> None:
        if "spend" in values:
            # An explicit spend (reset) replaces the running total everywhere.
            self.cache.ledger.set_spend(
                (kind, entity_id), values["spend"], values.get("budget_reset_at")
            )
            if self.counters is not None:
                await self.counters.set_spend((kind, entity_id), values["spend"])
        await self.invalidations.changed(kind, entity_id)

    async def create(self, kind: EntityKind, entity_id: str, values: dict[str, Any]) -> Entity:
        id_column = next(iter(TABLES[kind].primary_key.columns)).name
        try:
            await insert_row(self.cache.db, TABLES[kind], {id_column: entity_id, **values})
        except RefusedValueError as exc:
            raise BadRequestError(f"The database refused a value: {exc}") from exc
        except DuplicateError as exc:
            raise BadRequestError(
                f"{kind.replace('_', ' ')} already exists (id or alias is taken): {entity_id}",
                code="already_exists",
            ) from exc
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        await self._changed(kind, entity_id, values)
        return await self.get(kind, entity_id)

    async def update(self, kind: EntityKind, entity_id: str, values: dict[str, Any]) -> Entity:
        try:
            row = await update_row(self.cache.db, TABLES[kind], entity_id, values)
        except RefusedValueError as exc:
            raise BadRequestError(f"The database refused a value: {exc}") from exc
        except DuplicateError as exc:
            raise BadRequestError(f"alias already taken: {exc}", code="already_exists") from exc
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        if row is None:
            raise NotFoundError(
                f"{kind.replace('_', ' ')} not found: {entity_id}", code="not_found"
            )
        await self._changed(kind, entity_id, values)
        return await self.get(kind, entity_id)

    async def delete(self, kind: EntityKind, ids: list[str]) -> list[str]:
        try:
            deleted = await delete_rows(self.cache.db, TABLES[kind], ids)
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        for entity_id in deleted:
            await self.invalidations.changed(kind, entity_id)
        return deleted

    async def where(self, kind: EntityKind, **equals: Any) -> list[Entity]:
        found = [
            e
            for e in self.cache.all(kind)
            if all(e.row.get(name) == value for name, value in equals.items())
        ]
        return sorted(found, key=lambda e: str(e.row.get("created_at") or ""))

    # keys

    async def generate_key(
        self, values: dict[str, Any], key: str | None = None
    ) -> tuple[str, Entity]:
        team_id = values.get("team_id")
        if team_id is not None and self.cache.get("team", team_id) is None:
            await self.get("team", team_id)
        plain = key or new_key()
        values["key_name"] = display_name(plain)
        entity = await self.create("key", hash_key(plain), values)
        return plain, entity

    async def key_by_alias(self, alias: str) -> Entity | None:
        for entity in self.cache.all("key"):
            if entity.alias == alias:
                return entity
        try:
            rows = await fetch_where(self.cache.db, TABLES["key"], key_alias=alias)
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        return await self.cache.reload("key", rows[0]["token"]) if rows else None

    async def regenerate_key(
        self, token: str, values: dict[str, Any], new_plain: str | None = None
    ) -> tuple[str, Entity]:
        await self.get("key", token)
        if self.flush_spend is not None:
            await self.flush_spend()
        plain = new_plain or new_key()
        new_token = hash_key(plain)
        values = {**values, "token": new_token, "key_name": display_name(plain)}
        old_spend = self.cache.ledger.spend(("key", token))
        try:
            await replace_pk(self.cache.db, TABLES["key"], token, values)
        except StoreUnavailableError as exc:
            raise _unavailable(exc) from exc
        old = self.cache.get("key", token)
        reset_at = old.limits.budget_reset_at if old is not None else None
        self.cache.ledger.set_spend(("key", new_token), old_spend, reset_at)
        await self.invalidations.changed("key", token)
        await self.invalidations.changed("key", new_token)
        return plain, await self.get("key", new_token)


def new_id() -> str:
    return str(uuid.uuid4())
