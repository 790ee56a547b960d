"""Where cached responses live: a two-method interface and one module per backend.

Backends store opaque bytes under a string key with an optional lifetime in seconds; the
response cache decides what goes in and checks ages itself.
"""

from __future__ import annotations

from typing import Protocol


class CacheBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None) -> None: ...

    async def aclose(self) -> None: ...


class CacheBackendError(Exception):
    """The backend could not be reached or answered badly; the request goes on uncached."""
