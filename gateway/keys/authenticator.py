"""Authenticate the master key or a virtual key, answered from the in-memory cache."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from gateway.auth import Principal, presented_key
from gateway.errors import AuthenticationError, ServiceUnavailableError
from gateway.keys.cache import EntityCache
from gateway.keys.hashing import hash_presented_key
from gateway.keys.model import Entity, Limits
from gateway.store.database import StoreUnavailableError

log = structlog.get_logger("toolrelay.keys")


@dataclass
class VirtualKeyAuthenticator:
    master_key: str | None
    cache: EntityCache
    allow_on_db_unavailable: bool = False
    # The principal made for each cached key, reused while the cache holds the same (frozen)
    # entity: a `Principal` is a frozen dataclass of 13 fields, costly to build per request.
    _principals: dict[str, tuple[Entity, Principal]] = field(default_factory=dict, init=False)

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        key = presented_key(headers)
        if key is None:
            if self.master_key is None:
                return Principal(kind="open", is_admin=True)
            raise AuthenticationError(
                "No API key provided. Pass it as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
            )
        if self.master_key is not None and hmac.compare_digest(
            key.encode(), self.master_key.encode()
        ):
            return Principal(kind="master", is_admin=True, key_alias="master")
        token = hash_presented_key(key)
        entity = self.cache.get("key", token)
        if entity is None:
            if self.master_key is None:
                # Open mode (no master key): any key is accepted, as before virtual keys.
                return Principal(kind="open", is_admin=True)
            entity = await self._miss(token)
        made = self._principals.get(token)
        if made is not None and made[0] is entity:
            check_usable(entity)
            return made[1]
        principal = principal_for(entity, datetime.now(UTC))
        if len(self._principals) >= MAX_PRINCIPALS:
            self._principals.clear()
        self._principals[token] = (entity, principal)
        return principal

    async def _miss(self, token: str) -> Entity:
        # Only unknown keys reach the database; a key made by another instance is found here.
        if not self.cache.active:
            raise AuthenticationError("Invalid API key.")
        try:
            entity = await self.cache.reload("key", token)
        except StoreUnavailableError as exc:
            if self.allow_on_db_unavailable:
                log.warning("database unavailable; admitting an unknown key (allowed by config)")
                return Entity(kind="key", id=token, limits=_NO_LIMITS)
            raise ServiceUnavailableError(
                "The key database is unavailable and this key is not cached; try again shortly.",
                code="database_unavailable",
            ) from exc
        if entity is None:
            raise AuthenticationError("Invalid API key.")
        return entity


def check_usable(entity: Entity, now: datetime | None = None) -> None:
    """Refuse a blocked or expired key (`now` defaults to the current time)."""
    if entity.limits.blocked:
        raise AuthenticationError("This key is blocked.", code="key_blocked")
    if entity.expires is not None and entity.expires <= (now or datetime.now(UTC)):
        raise AuthenticationError(
            f"This key expired at {entity.expires.isoformat()}.", code="key_expired"
        )


def principal_for(entity: Entity, now: datetime) -> Principal:
    check_usable(entity, now)
    limits = entity.limits
    return Principal(
        kind="virtual_key",
        is_admin=False,
        key_alias=entity.alias,
        token=entity.id,
        team_id=entity.team_id,
        user_id=entity.user_id,
        models=limits.models,
        metadata=limits.metadata,
        max_budget=limits.max_budget,
        rpm_limit=limits.rpm_limit,
        tpm_limit=limits.tpm_limit,
        max_parallel_requests=limits.max_parallel_requests,
    )


_NO_LIMITS = Limits()
MAX_PRINCIPALS = 50_000
