"""The JWKS cache against a real loopback issuer, with an injected clock."""

from __future__ import annotations

import httpx
import pytest

from gateway.errors import AuthenticationError
from gateway.jwt.jwks import JWKSCache
from tests.gateway.jwt.conftest import Issuer, SigningKey


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_unknown_kid_refetches_at_most_once_per_interval(
    issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"])
    clock = Clock()
    async with httpx.AsyncClient() as http:
        cache = JWKSCache(issuer.url, http, ttl=600, min_refresh_interval=30, clock=clock)
        assert (await cache.key("rsa-1")).key_id == "rsa-1"
        assert cache.fetches == 1
        clock.now += 31
        for _ in range(5):  # a burst of made-up kids: one refetch, then refusals from memory
            with pytest.raises(AuthenticationError):
                await cache.key("made-up")
        assert cache.fetches == 2
        issuer.publish(keys["rsa"], keys["rotated"])
        with pytest.raises(AuthenticationError):
            await cache.key("rsa-2")  # rotated, but too soon after the last fetch
        clock.now += 31
        assert (await cache.key("rsa-2")).key_id == "rsa-2"
        assert cache.fetches == 3


@pytest.mark.anyio
async def test_keys_expire_after_ttl(issuer: Issuer, keys: dict[str, SigningKey]) -> None:
    issuer.publish(keys["rsa"])
    clock = Clock()
    async with httpx.AsyncClient() as http:
        cache = JWKSCache(issuer.url, http, ttl=60, min_refresh_interval=30, clock=clock)
        await cache.key("rsa-1")
        issuer.publish(keys["rotated"])  # the old key is withdrawn
        clock.now += 61
        with pytest.raises(AuthenticationError):
            await cache.key("rsa-1")
        assert cache.fetches == 2
