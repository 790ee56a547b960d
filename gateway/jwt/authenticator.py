"""An `Authenticator` that accepts JWTs and hands every other credential to the one it wraps
(master key and virtual keys), so both kinds of callers work side by side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.auth import Authenticator, Principal, presented_key
from gateway.jwt.claims import ClaimMapper
from gateway.jwt.verify import TokenVerifier, looks_like_jwt


@dataclass
class JWTAuthenticator:
    inner: Authenticator
    verifier: TokenVerifier
    mapper: ClaimMapper

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        credential = presented_key(headers)
        if credential is None or not looks_like_jwt(credential):
            return await self.inner.authenticate(headers)
        claims = await self.verifier.verify(credential)
        return self.mapper.principal(claims)
