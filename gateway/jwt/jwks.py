"""The issuer's signing keys: fetched once, kept for `public_key_ttl`, refetched early when a
token names a key we do not have (rotation), but at most once per `min_refresh_interval` so
tokens with made-up `kid`s cannot make us hammer the issuer.

A failed fetch with no keys to fall back on is remembered for `failure_backoff` seconds:
requests in that window get the same clear error at once instead of each refetching, and
requests that waited on the lock behind a fetch take its outcome. So the issuer sees at most
one fetch in flight, and at most one per backoff interval while it is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import structlog

from gateway.errors import AuthenticationError

log = structlog.get_logger("toolrelay.gateway.jwt")


class JWKSUnavailableError(AuthenticationError):
    """The issuer's key set could not be fetched or read."""


@dataclass
class JWKSCache:
    url: str
    http: httpx.AsyncClient
    ttl: float = 600.0
    min_refresh_interval: float = 10.0
    failure_backoff: float = 5.0
    fetch_timeout: float = 5.0
    clock: Callable[[], float] = time.monotonic
    fetches: int = 0
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, init=False)
    _fetched_at: float | None = field(default=None, init=False)
    _attempts: int = field(default=0, init=False)
    _failure: JWKSUnavailableError | None = field(default=None, init=False)
    _failed_at: float = field(default=0.0, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def key(self, kid: str | None) -> jwt.PyJWK:
        now = self.clock()
        failed_recently = self._failure is not None and now - self._failed_at < self.failure_backoff
        if self._fetched_at is None and failed_recently and self._failure is not None:
            raise self._failure
        if self._fetched_at is None or now - self._fetched_at >= self.ttl:
            await self._refresh(force=True)
            if self._fetched_at is None and self._failure is not None:
                raise self._failure  # a fetch we waited behind failed
        found = self._find(kid)
        if found is None and self._may_refresh():
            await self._refresh(force=False)
            found = self._find(kid)
        if found is None:
            raise AuthenticationError(
                "The token was signed with a key the issuer does not publish.", code="unknown_kid"
            )
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get(kid)
        # A token without kid is only acceptable when the set has exactly one key.
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    def _may_refresh(self) -> bool:
        return (
            self._fetched_at is None or self.clock() - self._fetched_at >= self.min_refresh_interval
        )

    async def _refresh(self, *, force: bool) -> None:
        started = self._attempts
        async with self._lock:
            if self._attempts != started:  # another request fetched while we waited
                return
            if not force and not self._may_refresh():
                return
            try:
                self._keys = await self._fetch()
            except JWKSUnavailableError as exc:
                self._failure, self._failed_at = exc, self.clock()
                raise
            finally:
                self._attempts += 1  # counted when done, so that waiters take this outcome
            self._failure = None
            self._fetched_at = self.clock()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        self.fetches += 1
        try:
            response = await self.http.get(self.url, timeout=self.fetch_timeout)
            response.raise_for_status()
            document: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning(
                "JWKS fetch failed",
                url=self.url,
                error=str(exc),
                retry_after_seconds=None if self._keys else self.failure_backoff,
            )
            if self._keys:
                return self._keys  # keep serving with the keys we had
            raise JWKSUnavailableError(
                "Cannot verify the token: the issuer's keys are unavailable.",
                code="jwks_unavailable",
            ) from exc
        keys: dict[str, jwt.PyJWK] = {}
        for raw in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(raw, dict) or raw.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK.from_dict(raw)
            except jwt.PyJWTError as exc:
                log.warning("JWKS key skipped", kid=raw.get("kid"), error=str(exc))
                continue
            keys[str(raw.get("kid", ""))] = key
        log.info("JWKS loaded", url=self.url, keys=len(keys))
        return keys
