"""Every key, team, user and end user, held in memory so that auth never waits on the database.

Loaded in full at start; a management change reloads the one entity it touched and tells
other instances (through `Invalidations`) to do the same. A key that is not in memory is
looked up once (it may have been created by another instance without Redis).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from sqlalchemy import Table

from gateway.keys.model import Entity, EntityKind, entity_from_row
from gateway.limits.ledger import MemoryLedger
from gateway.store import tables
from gateway.store.database import Database
from gateway.store.repository import fetch_all, fetch_one

log = structlog.get_logger("toolrelay.keys")

TABLES: dict[EntityKind, Table] = {
    "key": tables.virtual_keys,
    "team": tables.teams,
    "user": tables.users,
    "end_user": tables.end_users,
}


@dataclass
class EntityCache:
    db: Database
    ledger: MemoryLedger
    entities: dict[EntityKind, dict[str, Entity]] = field(
        default_factory=lambda: {kind: {} for kind in TABLES}
    )
    loaded: bool = False
    # False until the app's lifespan starts the store: an app that never started (in-process
    # tests without lifespan) has no keys to look up, rather than a database that is down.
    active: bool = False

    def get(self, kind: EntityKind, entity_id: str | None) -> Entity | None:
        if entity_id is None:
            return None
        return self.entities[kind].get(entity_id)

    def all(self, kind: EntityKind) -> list[Entity]:
        return list(self.entities[kind].values())

    def put(self, entity: Entity) -> None:
        self.entities[entity.kind][entity.id] = entity
        self.ledger.seed((entity.kind, entity.id), entity.spend, entity.limits.budget_reset_at)

    def drop(self, kind: EntityKind, entity_id: str) -> None:
        self.entities[kind].pop(entity_id, None)
        self.ledger.forget((kind, entity_id))

    async def load_all(self) -> None:
        for kind, table in TABLES.items():
            for row in await fetch_all(self.db, table):
                self.put(entity_from_row(kind, row))
        self.loaded = True
        log.info(
            "entity cache loaded",
            **{f"{kind}s": len(items) for kind, items in self.entities.items()},
        )

    async def refresh_all(self) -> None:
        """Re-read everything: how instances that share a store without Redis converge."""
        fresh: dict[EntityKind, dict[str, Entity]] = {}
        for kind, table in TABLES.items():
            fresh[kind] = {
                e.id: e for e in (entity_from_row(kind, r) for r in await fetch_all(self.db, table))
            }
        for kind, entities in fresh.items():
            for gone in set(self.entities[kind]) - set(entities):
                self.drop(kind, gone)
            for entity in entities.values():
                self.put(entity)
        self.loaded = True

    async def reload(self, kind: EntityKind, entity_id: str) -> Entity | None:
        """Re-read one entity after a change (ours or another instance's)."""
        row = await fetch_one(self.db, TABLES[kind], entity_id)
        if row is None:
            self.drop(kind, entity_id)
            return None
        entity = entity_from_row(kind, row)
        self.entities[kind][entity.id] = entity
        self.ledger.seed((kind, entity.id), entity.spend, entity.limits.budget_reset_at)
        return entity
