"""The admin page session: a signed, expiring cookie that names the person and their role.

The value is `base64url(json).base64url(hmac-sha256)`. Nothing secret is in it (it is
HttpOnly anyway); the signature stops anyone from making one up. The key comes from
`TOOLRELAY_SESSION_SECRET`, else it is derived from the master key, so every replica
accepts the others' sessions; with neither, it is random per process (sessions end on
restart, and a warning says so). Each session carries its own CSRF token, which the page
reads from `/ui/session` and sends back in `X-CSRF-Token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

import orjson
import structlog

from gateway.auth import Principal
from gateway.config import LoadedConfig
from gateway.roles import PROXY_ADMIN, as_role

log = structlog.get_logger("toolrelay.gateway.signin")
COOKIE = "toolrelay_session"
CSRF_HEADER = "x-csrf-token"
SECRET_ENV = "TOOLRELAY_SESSION_SECRET"
DEFAULT_TTL_SECONDS = 8 * 3600
_MAX_COOKIE = 4096


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Session:
    user_id: str
    role: str
    method: str  # "password" or "sso"
    expires: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    email: str | None = None

    def principal(self) -> Principal:
        metadata: dict[str, Any] = {"signed_in_with": self.method}
        if self.email:
            metadata["user_email"] = self.email
        return Principal(
            kind="session",
            is_admin=self.role == PROXY_ADMIN,
            user_id=self.user_id,
            role=self.role,
            metadata=metadata,
        )

    def public(self) -> dict[str, Any]:
        """What `/ui/session` tells the page (the CSRF token is meant for it)."""
        return {
            "signed_in": True,
            "user_id": self.user_id,
            "user_email": self.email,
            "role": self.role,
            "method": self.method,
            "csrf_token": self.csrf,
            "expires_at": int(self.expires),
        }


@dataclass(frozen=True)
class SessionCodec:
    secret: bytes
    ttl: float = DEFAULT_TTL_SECONDS
    clock: Callable[[], float] = time.time

    def new(self, user_id: str, role: str, method: str, email: str | None = None) -> Session:
        return Session(
            user_id=user_id, role=role, method=method, email=email, expires=self.clock() + self.ttl
        )

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self.secret, payload, hashlib.sha256).digest())

    def encode(self, session: Session) -> str:
        payload = _b64(
            orjson.dumps(
                {
                    "u": session.user_id,
                    "r": session.role,
                    "m": session.method,
                    "x": session.expires,
                    "c": session.csrf,
                    "e": session.email,
                }
            )
        )
        return f"{payload}.{self._sign(payload.encode())}"

    def decode(self, value: str) -> Session | None:
        """The session, or None when the value is forged, damaged or expired."""
        payload, _, signature = value.partition(".")
        if not signature or len(value) > _MAX_COOKIE:
            return None
        if not hmac.compare_digest(signature, self._sign(payload.encode())):
            return None
        try:
            data = orjson.loads(_unb64(payload))
            session = Session(
                user_id=str(data["u"]),
                role=str(data["r"]),
                method=str(data["m"]),
                expires=float(data["x"]),
                csrf=str(data["c"]),
                email=data.get("e"),
            )
        except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        if session.expires <= self.clock() or as_role(session.role) is None:
            return None
        return session

    def seal(self, data: dict[str, Any], ttl: float) -> str:
        """Any small JSON object, signed and expiring (the SSO flow's state and verifier)."""
        payload = _b64(orjson.dumps({**data, "_x": self.clock() + ttl}))
        return f"{payload}.{self._sign(b'sealed:' + payload.encode())}"

    def unseal(self, value: str) -> dict[str, Any] | None:
        payload, _, signature = value.partition(".")
        if not signature or len(value) > _MAX_COOKIE:
            return None
        if not hmac.compare_digest(signature, self._sign(b"sealed:" + payload.encode())):
            return None
        try:
            data = orjson.loads(_unb64(payload))
        except (binascii.Error, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict) or float(data.get("_x", 0)) <= self.clock():
            return None
        return data

    def from_headers(self, headers: Mapping[str, str]) -> Session | None:
        value = cookie_value(headers, COOKIE)
        return self.decode(value) if value is not None else None

    def set_cookie_header(self, session: Session, *, secure: bool) -> str:
        return _cookie(self.encode(session), max_age=int(self.ttl), secure=secure)

    @staticmethod
    def clear_cookie_header(*, secure: bool) -> str:
        return _cookie("", max_age=0, secure=secure)


def cookie_value(headers: Mapping[str, str], name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(raw)
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None else None


def _cookie(value: str, *, max_age: int, secure: bool) -> str:
    parts = [f"{COOKIE}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def random_session_codec() -> SessionCodec:
    return SessionCodec(secrets.token_bytes(32))


def build_session_codec(config: LoadedConfig, environ: Mapping[str, str]) -> SessionCodec:
    secret = environ.get(SECRET_ENV)
    if secret:
        return SessionCodec(hashlib.sha256(secret.encode()).digest())
    if config.master_key:
        # A separate key from the master key itself, the same on every replica.
        derived = hmac.new(config.master_key.encode(), b"toolrelay admin session", hashlib.sha256)
        return SessionCodec(derived.digest())
    log.warning(
        f"no master key and no {SECRET_ENV}: admin page sessions are signed with a random "
        "key and end when this process restarts"
    )
    return SessionCodec(secrets.token_bytes(32))
