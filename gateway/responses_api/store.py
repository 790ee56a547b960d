"""Stored responses, for `previous_response_id`, `GET` and `DELETE /v1/responses/{id}`.

Each row keeps the whole conversation that produced a response (its input items, stored
history included) and the response itself, so continuing it needs one read. A response
belongs to the key that created it: another virtual key gets a 404, the admin sees all.
Rows live for the retention period (`general_settings.responses_retention_period`, default
30 days, as OpenAI keeps them); expired rows are never returned and are deleted in passing,
at most once per `PURGE_EVERY`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, delete, insert, select

from gateway.auth import Principal
from gateway.errors import ServiceUnavailableError
from gateway.providers.base import JSON as JSONDict
from gateway.store.database import UNAVAILABLE_ERRORS, Database

log = structlog.get_logger("toolrelay.gateway.responses")

DEFAULT_RETENTION = timedelta(days=30)
PURGE_EVERY = 300.0  # seconds

metadata = MetaData()
stored_responses = Table(
    "stored_responses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("model_group", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("input_items", JSON, nullable=False),
    Column("response", JSON, nullable=False),
)


def owner_of(principal: Principal) -> str:
    """Who may read a stored response back: the virtual key (by hash), the user of a JWT,
    or the admin."""
    if principal.token:
        return f"key:{principal.token}"
    if principal.kind == "jwt" and principal.user_id:
        return f"user:{principal.user_id}"
    return principal.kind


@dataclass(frozen=True)
class StoredResponse:
    input_items: list[JSONDict]
    response: JSONDict


@dataclass
class ResponseStore:
    db: Database | None
    retention: timedelta = DEFAULT_RETENTION
    _last_purge: float = field(default=0.0)

    async def save(
        self,
        principal: Principal,
        model_group: str,
        input_items: list[JSONDict],
        response: JSONDict,
    ) -> None:
        """Keep a finished response. A database outage is logged, not raised: the answer
        still reaches the client, only continuing it by id will fail."""
        if self.db is None:
            return
        now = datetime.now(UTC)
        row = {
            "id": response["id"],
            "owner": owner_of(principal),
            "model_group": model_group,
            "created_at": now,
            "expires_at": now + self.retention,
            "input_items": input_items,
            "response": response,
        }
        try:
            async with self.db.engine.begin() as connection:
                await connection.execute(insert(stored_responses).values(**row))
                if time.monotonic() - self._last_purge > PURGE_EVERY:
                    self._last_purge = time.monotonic()
                    await connection.execute(
                        delete(stored_responses).where(stored_responses.c.expires_at < now)
                    )
        except UNAVAILABLE_ERRORS as exc:
            log.error(
                "could not store response; previous_response_id will not find it",
                response_id=response["id"],
                error=repr(exc),
            )

    async def load(self, principal: Principal, response_id: str) -> StoredResponse | None:
        row = await self._row(principal, response_id)
        if row is None:
            return None
        return StoredResponse(list(row["input_items"]), dict(row["response"]))

    async def delete(self, principal: Principal, response_id: str) -> bool:
        if await self._row(principal, response_id) is None:
            return False
        await self._run(delete(stored_responses).where(stored_responses.c.id == response_id))
        return True

    async def _row(self, principal: Principal, response_id: str) -> dict[str, Any] | None:
        query = select(stored_responses).where(
            stored_responses.c.id == response_id,
            stored_responses.c.expires_at > datetime.now(UTC),
        )
        if not principal.is_admin:
            query = query.where(stored_responses.c.owner == owner_of(principal))
        result = await self._run(query)
        row = result.first() if result is not None else None
        return dict(row._mapping) if row is not None else None

    async def _run(self, statement: Any) -> Any:
        if self.db is None:
            raise ServiceUnavailableError("stored responses need the gateway's database")
        try:
            async with self.db.engine.begin() as connection:
                result = await connection.execute(statement)
                return result if statement.is_select else None
        except UNAVAILABLE_ERRORS as exc:
            raise ServiceUnavailableError(
                "the response store is unavailable; try again shortly"
            ) from exc
