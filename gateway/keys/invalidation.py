"""Tell every gateway instance that an entity changed, so each reloads it from the database.

In one process the cache is reloaded directly. With Redis configured, changes are also
published on a channel that every instance subscribes to (`redis_invalidations.py`, imported
only then: redis-py is about 7 MB of resident memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.keys.cache import EntityCache
from gateway.keys.model import EntityKind


class Invalidations(Protocol):
    async def changed(self, kind: EntityKind, entity_id: str) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class LocalInvalidations:
    cache: EntityCache

    async def changed(self, kind: EntityKind, entity_id: str) -> None:
        await self.cache.reload(kind, entity_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
