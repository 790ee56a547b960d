"""A fake Google OAuth 2.0 token endpoint for service accounts, and the tokens it minted.

A test registers a service account (its `client_email`, the PEM public key of the RSA key it
generated, its project) with `POST /__fake__/google/service_accounts`, and points the key's
`token_uri` at this fake's `/token`. The endpoint then does what Google's does for the
JWT-bearer grant (RFC 7523): checks the assertion's RS256 signature against the registered
key, its audience (this endpoint), its lifetime and scope, and answers an access token.
Vertex routes accept only tokens minted here, for the account's own project.

Errors follow Google's token endpoint: `400 {"error": "invalid_grant", "error_description"}`.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .exchange import Exchange

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# The audience Google documents for service-account assertions, whatever URL they are sent to.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
DEFAULT_LIFETIME = 3600


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    email: str
    public_key: RSAPublicKey
    project: str
    token_lifetime: int = DEFAULT_LIFETIME


@dataclass(frozen=True, slots=True)
class AccessToken:
    account: ServiceAccount
    expires_at: float


@dataclass
class GoogleAccounts:
    """Registered service accounts and minted tokens; the fake's threads share it."""

    _accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    _tokens: dict[str, AccessToken] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    minted: int = 0  # tokens handed out, for tests that count refreshes

    def register(self, account: ServiceAccount) -> None:
        with self._lock:
            self._accounts[account.email] = account

    def account(self, email: str) -> ServiceAccount | None:
        with self._lock:
            return self._accounts.get(email)

    def mint(self, account: ServiceAccount) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = AccessToken(account, time.time() + account.token_lifetime)
            self.minted += 1
        return token

    def holder(self, token: str) -> ServiceAccount | None:
        """The account a live token was minted for; None for unknown or expired tokens."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found.expires_at <= time.time():
            return None
        return found.account


def _grant_error(error: str, description: str) -> bytes:
    return orjson.dumps({"error": error, "error_description": description})


def _check_assertion(
    accounts: GoogleAccounts, assertion: str, audience: str
) -> ServiceAccount | bytes:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _grant_error("invalid_grant", "Invalid JWT: the assertion is not a JWT.")
    account = accounts.account(str(claims.get("iss")))
    if account is None:
        return _grant_error("invalid_grant", "Invalid grant: account not found")
    try:
        verified = jwt.decode(
            assertion,
            account.public_key,
            algorithms=["RS256"],
            audience=[GOOGLE_TOKEN_AUDIENCE, audience],
            options={"require": ["iss", "aud", "iat", "exp"]},
        )
    except jwt.InvalidSignatureError:
        return _grant_error("invalid_grant", "Invalid JWT Signature.")
    except jwt.InvalidAudienceError:
        return _grant_error(
            "invalid_grant", f"Invalid JWT: audience must be {GOOGLE_TOKEN_AUDIENCE}."
        )
    except jwt.PyJWTError as exc:
        return _grant_error(
            "invalid_grant",
            f"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            f"timeframe. ({exc})",
        )
    if verified["exp"] - verified["iat"] > 3600:
        return _grant_error("invalid_grant", "Invalid JWT: Token must be short-lived.")
    if CLOUD_PLATFORM not in str(verified.get("scope", "")).split():
        return orjson.dumps({"error": "invalid_scope", "error_description": "Invalid scope."})
    return account


async def token(accounts: GoogleAccounts, exchange: Exchange) -> None:
    form = parse_qs(exchange.body.decode("latin-1"))
    grant = form.get("grant_type", [""])[0]
    if grant != JWT_BEARER:
        await exchange.respond(
            400, _grant_error("unsupported_grant_type", f"Invalid grant_type: {grant}")
        )
        return
    host = (exchange.header(b"host") or b"").decode("latin-1")
    audience = f"http://{host}{exchange.path}"
    checked = _check_assertion(accounts, form.get("assertion", [""])[0], audience)
    if isinstance(checked, bytes):
        await exchange.respond(400, checked)
        return
    payload: dict[str, Any] = {
        "access_token": accounts.mint(checked),
        "expires_in": checked.token_lifetime,
        "token_type": "Bearer",
    }
    await exchange.respond(200, orjson.dumps(payload))


def parse_registration(body: Any) -> ServiceAccount | str:
    """The body of `POST /__fake__/google/service_accounts`, or what is wrong with it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    email, pem, project = body.get("client_email"), body.get("public_key"), body.get("project_id")
    if not (isinstance(email, str) and isinstance(pem, str) and isinstance(project, str)):
        return "client_email, public_key (PEM) and project_id are required strings"
    lifetime = body.get("token_lifetime", DEFAULT_LIFETIME)
    if not isinstance(lifetime, int) or lifetime < 1:
        return "token_lifetime must be a positive number of seconds"
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        return f"public_key is not a PEM public key: {exc}"
    if not isinstance(key, RSAPublicKey):
        return "public_key must be an RSA key"
    return ServiceAccount(email, key, project, lifetime)
