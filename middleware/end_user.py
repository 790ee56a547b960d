"""Who is asking: the end user behind a request, for per-user MCP sessions and for the
gateway's end-user spend, budgets and limits.

In order of preference:
1. Open WebUI's signed `X-OpenWebUI-User-Jwt` (HS256, `iss: open-webui`, claims `sub`,
   `email`, `name`, `role`, `exp`), verified with `openwebui_jwt_secret`. When a secret is
   set, a token that fails verification (forged, unsigned, expired, another issuer) is
   ignored and logged.
2. Open WebUI's plain `X-OpenWebUI-User-Id` header, only with
   `trust_openwebui_user_headers: true`: any holder of the key can write it.
3. The request's own `user` field.
4. Nobody in particular: the key alone.

The session scope always starts with the key (hashed), so a user name chosen by one key's
holder never reaches another key's sessions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

logger = structlog.get_logger("middleware.end_user")
JWT_HEADER = "x-openwebui-user-jwt"
ID_HEADER = "x-openwebui-user-id"
OPENWEBUI_ISSUER = "open-webui"
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class EndUser:
    id: str | None  # the end user's id, when known
    source: str  # openwebui-jwt | openwebui-header | request | key
    session_key: str  # which per-user MCP sessions this request uses

    @property
    def from_openwebui(self) -> bool:
        return self.source.startswith("openwebui")


def _key_scope(key: str | None) -> str:
    if not key:
        return "anonymous"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class EndUserResolver:
    def __init__(self, *, jwt_secret: str | None, trust_headers: bool) -> None:
        self._secret = jwt_secret
        self._trust_headers = trust_headers

    def resolve(self, headers: Mapping[str, str], request_user: object, key: str | None) -> EndUser:
        scope = _key_scope(key)
        found = self._from_openwebui(headers)
        if found is not None:
            user_id, source = found
        elif isinstance(request_user, str) and request_user.strip():
            user_id, source = request_user.strip(), "request"
        else:
            return EndUser(None, "key", scope)
        return EndUser(user_id, source, f"{scope}/{source}:{user_id}")

    def _from_openwebui(self, headers: Mapping[str, str]) -> tuple[str, str] | None:
        token = headers.get(JWT_HEADER)
        if token and self._secret:
            user_id = self._verified_subject(token)
            if user_id is not None:
                return user_id, "openwebui-jwt"
        if self._trust_headers:
            plain = (headers.get(ID_HEADER) or "").strip()
            if plain:
                return plain, "openwebui-header"
        return None

    def _verified_subject(self, token: str) -> str | None:
        assert self._secret is not None
        if len(token) > MAX_TOKEN_LENGTH:
            logger.warning("open webui user token ignored", reason="token too long")
            return None
        # Imported here (a no-op after the first token): PyJWT, about 2 MB of resident memory
        # here (the MCP SDK loads cryptography anyway), is needed only with a JWT secret.
        import jwt

        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],  # never the token's own choice ("none")
                issuer=OPENWEBUI_ISSUER,
                options={"require": ["sub", "exp", "iss"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            logger.warning("open webui user token ignored", reason=f"{type(exc).__name__}: {exc}")
            return None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            logger.warning("open webui user token ignored", reason="empty sub claim")
            return None
        return subject.strip()
