"""The response cache around an inference call: decide, look up, replay, store.

Whether a request is cacheable is decided from the record alone (call type, stream, the
request's `cache` controls), so a request that is not cacheable never waits on the backend.
A backend that fails is logged and treated as a miss: the cache never fails a request.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from gateway.cache.backends import CacheBackend, CacheBackendError
from gateway.cache.controls import NO_CONTROLS, CacheControls, parse_controls
from gateway.cache.keys import cache_key
from gateway.cache.settings import CacheParams
from gateway.cache.streaming import ChunkAssembler
from gateway.context import current_context
from gateway.hooks import CallRecord

JSON = dict[str, Any]
KEY_HEADER = "x-litellm-cache-key"  # LiteLLM's: present on hits only
STATUS_HEADER = "x-toolrelay-cache"  # hit | miss
# Both stream chat chunks internally (/v1/responses turns them into events afterwards).
STREAMABLE_CALL_TYPES = frozenset({"chat", "responses"})
log = structlog.get_logger("toolrelay.gateway.cache")


def _set_header(name: str, value: str) -> None:
    ctx = current_context()
    if ctx is not None:
        ctx.response_headers[name] = value


@dataclass
class CacheLookup:
    """One request's view of the cache: the hit (if any) and how to store a fresh answer."""

    cache: ResponseCache | None = None
    key: str | None = None
    controls: CacheControls = NO_CONTROLS
    response: JSON | None = None

    async def store(self, response: JSON) -> None:
        if self.cache is None or self.key is None or self.controls.no_store:
            return
        await self.cache.put(self.key, response, self.controls.ttl)

    def collect(self, first: JSON, rest: AsyncIterator[JSON]) -> AsyncIterator[JSON]:
        """Pass `rest` through, and store the assembled answer when the stream completes."""
        if self.cache is None or self.key is None or self.controls.no_store:
            return rest
        return self._collect(first, rest)

    async def _collect(self, first: JSON, rest: AsyncIterator[JSON]) -> AsyncIterator[JSON]:
        assembler = ChunkAssembler()
        assembler.add(first)
        try:
            async for chunk in rest:
                assembler.add(chunk)
                yield chunk
        finally:
            closer = getattr(rest, "aclose", None)
            if closer is not None:
                await closer()
        completion = assembler.completion()
        if completion is not None:
            await self.store(completion)


NOT_CACHED = CacheLookup()


@dataclass
class ResponseCache:
    backend: CacheBackend | None = None
    params: CacheParams = field(default_factory=CacheParams)
    clock: Callable[[], float] = time.time
    call_types: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.call_types = self.params.call_types() if self.backend is not None else frozenset()

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    async def lookup(self, record: CallRecord) -> CacheLookup:
        """Never raises for backend trouble; raises `BadRequestError` for bad `cache` controls."""
        if record.call_type not in self.call_types:
            return NOT_CACHED
        if record.stream and record.call_type not in STREAMABLE_CALL_TYPES:
            return NOT_CACHED
        controls = parse_controls(record.body.get("cache"))
        namespace = controls.namespace or self.params.namespace
        key = cache_key(namespace, record.call_type, record.model_group, record.body)
        lookup = CacheLookup(cache=self, key=key, controls=controls)
        if not controls.no_cache:
            lookup.response = await self.get(key, controls.s_maxage)
        if lookup.response is not None:
            record.cache_hit = True
            _set_header(KEY_HEADER, key)
            _set_header(STATUS_HEADER, "hit")
        else:
            _set_header(STATUS_HEADER, "miss")
        return lookup

    async def get(self, key: str, max_age: float | None = None) -> JSON | None:
        assert self.backend is not None
        try:
            raw = await self.backend.get(key)
        except CacheBackendError as exc:
            log.warning("cache lookup failed; treating as a miss", error=str(exc))
            return None
        if raw is None:
            return None
        try:
            entry = orjson.loads(raw)
            response, created, expires = entry["response"], entry["created"], entry.get("expires")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("unreadable cache entry ignored", key=key)
            return None
        now = self.clock()
        if expires is not None and now >= expires:
            return None
        if max_age is not None and now - created > max_age:
            return None
        return response if isinstance(response, dict) else None

    async def put(self, key: str, response: JSON, ttl: float | None) -> None:
        assert self.backend is not None
        lifetime = ttl if ttl is not None else self.params.default_ttl()
        if lifetime == 0:
            return
        now = self.clock()
        entry = {
            "response": response,
            "created": now,
            "expires": None if lifetime is None else now + lifetime,
        }
        try:
            await self.backend.set(key, orjson.dumps(entry), lifetime)
        except CacheBackendError as exc:
            log.warning("cache store failed; answer not cached", error=str(exc))

    async def aclose(self) -> None:
        if self.backend is not None:
            await self.backend.aclose()
