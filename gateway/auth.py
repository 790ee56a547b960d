"""Who is calling: the master key (admin), or open access when none is configured.

Virtual keys and JWTs plug in behind the same `Authenticator` protocol.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.errors import AuthenticationError

_KEY_HEADERS = ("x-litellm-api-key", "api-key", "x-api-key")


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "master", "open", "virtual_key", "jwt", "session"
    is_admin: bool
    key_alias: str | None = None
    token: str | None = None  # a virtual key's sha256 id
    team_id: str | None = None
    user_id: str | None = None
    models: tuple[str, ...] = ()  # empty: every model
    metadata: Mapping[str, Any] = field(default_factory=dict)
    max_budget: float | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_parallel_requests: int | None = None
    # LiteLLM's user role (gateway.roles) when the caller is a person (JWT or admin page
    # session); the master key is proxy_admin, a virtual key has none (see gateway.access).
    role: str | None = None


class Authenticator(Protocol):
    async def authenticate(self, headers: Mapping[str, str]) -> Principal: ...


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The API key from `Authorization: Bearer`, or LiteLLM's alternative headers."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    for name in _KEY_HEADERS:
        raw = headers.get(name)
        if raw:
            value = raw.strip()
            if value.lower().startswith("bearer "):
                value = value[7:].strip()
            if value:
                return value
    return None


@dataclass(frozen=True)
class MasterKeyAuthenticator:
    master_key: str | None

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if self.master_key is None:
            return Principal(kind="open", is_admin=True)
        key = presented_key(headers)
        if key is None:
            raise AuthenticationError(
                "No API key provided. Pass it as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
            )
        if hmac.compare_digest(key.encode(), self.master_key.encode()):
            return Principal(kind="master", is_admin=True, key_alias="master", role="proxy_admin")
        raise AuthenticationError("Invalid API key.")
