"""Verify a JWT's signature (against the JWKS), expiry, audience and issuer.

PyJWT's exceptions are mapped here, by class, to `AuthenticationError`s that say what was
wrong without echoing the token.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

from gateway.errors import AuthenticationError
from gateway.jwt.jwks import JWKSCache
from gateway.jwt.settings import JWTAuthSettings

_MESSAGES: tuple[tuple[type[jwt.PyJWTError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "The token has expired.", "token_expired"),
    (jwt.ImmatureSignatureError, "The token is not valid yet.", "token_not_yet_valid"),
    (jwt.InvalidAudienceError, "The token is not meant for this gateway (audience).", "invalid_audience"),
    (jwt.InvalidIssuerError, "The token comes from an unexpected issuer.", "invalid_issuer"),
    (jwt.InvalidSignatureError, "The token's signature does not verify.", "invalid_signature"),
    (jwt.MissingRequiredClaimError, "The token lacks a required claim.", "missing_claim"),
    (jwt.InvalidAlgorithmError, "The token's algorithm is not accepted.", "invalid_algorithm"),
)  # fmt: skip


def _as_auth_error(exc: jwt.PyJWTError) -> AuthenticationError:
    for kind, message, code in _MESSAGES:
        if isinstance(exc, kind):
            return AuthenticationError(message, code=code)
    return AuthenticationError("The token is malformed or invalid.", code="invalid_token")


def looks_like_jwt(credential: str) -> bool:
    return credential.startswith("eyJ") and credential.count(".") == 2


@dataclass
class TokenVerifier:
    """Verified tokens are remembered (bounded LRU) until they expire, at most for the JWKS
    TTL, so a client reusing its token pays for the signature check once."""

    settings: JWTAuthSettings
    jwks: JWKSCache
    max_remembered: int = 10_000
    clock: Callable[[], float] = time.time
    _verified: OrderedDict[str, tuple[dict[str, Any], float]] = field(
        default_factory=OrderedDict, init=False
    )

    async def verify(self, token: str) -> dict[str, Any]:
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, until = remembered
            if self.clock() < until:
                self._verified.move_to_end(token)
                return claims
            del self._verified[token]
        claims = await self._verify(token)
        until = min(float(claims["exp"]), self.clock() + self.settings.public_key_ttl)
        self._verified[token] = (claims, until)
        if len(self._verified) > self.max_remembered:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _as_auth_error(exc) from None
        algorithm = header.get("alg")
        if algorithm not in self.settings.algorithms:
            raise AuthenticationError(
                f"The token's algorithm {algorithm!r} is not accepted.", code="invalid_algorithm"
            )
        key = await self.jwks.key(header.get("kid"))
        required = ["exp"] + (["aud"] if self.settings.audience else [])
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": required, "verify_aud": self.settings.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise _as_auth_error(exc) from None
        return claims
