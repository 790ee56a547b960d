"""A verified token is remembered until it expires, and never past the JWKS TTL."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from gateway.jwt import JWTAuthSettings
from gateway.jwt.jwks import JWKSCache
from gateway.jwt.verify import TokenVerifier
from tests.gateway.jwt.conftest import AUDIENCE, Issuer, SigningKey


class CountingJWKS(JWKSCache):
    lookups: int = 0

    async def key(self, kid: str | None) -> jwt.PyJWK:
        self.lookups += 1
        return await super().key(kid)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_remembered_until_expiry(issuer: Issuer, keys: dict[str, SigningKey]) -> None:
    issuer.publish(keys["rsa"])
    clock = Clock()
    settings = JWTAuthSettings(audience=AUDIENCE, public_key_ttl=600)
    async with httpx.AsyncClient() as http:
        jwks = CountingJWKS(issuer.url, http)
        verifier = TokenVerifier(settings, jwks, clock=clock)
        token = keys["rsa"].token(exp=int(clock.now) + 60)
        claims: dict[str, Any] = await verifier.verify(token)
        assert (await verifier.verify(token)) == claims
        assert jwks.lookups == 1  # the second use skipped the signature check
        clock.now += 61  # past exp: verified again (and refused in real life once expired)
        await verifier.verify(token)
        assert jwks.lookups == 2


@pytest.mark.anyio
async def test_never_remembered_past_the_key_ttl(
    issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"])
    clock = Clock()
    settings = JWTAuthSettings(audience=AUDIENCE, public_key_ttl=30)
    async with httpx.AsyncClient() as http:
        jwks = CountingJWKS(issuer.url, http)
        verifier = TokenVerifier(settings, jwks, clock=clock)
        token = keys["rsa"].token(exp=int(clock.now) + 3600)
        await verifier.verify(token)
        clock.now += 31
        await verifier.verify(token)
        assert jwks.lookups == 2
