"""An `Authenticator` that accepts the admin page's session cookie when the request brings
no key; a request with a key (master, virtual or JWT) is always judged by that key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.auth import Authenticator, Principal, presented_key
from gateway.signin.session import SessionCodec


@dataclass
class SessionAuthenticator:
    inner: Authenticator
    sessions: SessionCodec

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if presented_key(headers) is None:
            session = self.sessions.from_headers(headers)
            if session is not None:
                return session.principal()
        return await self.inner.authenticate(headers)


def with_sessions(sessions: SessionCodec, inner: Authenticator) -> Authenticator:
    return SessionAuthenticator(inner=inner, sessions=sessions)
