"""CSRF protection for calls authenticated by the session cookie (pure ASGI).

The cookie is SameSite=Strict, so other sites' pages cannot send it; as a second, independent
line (older browsers, same-site subdomains), a state-changing request that relies on the
cookie must also carry the session's own token in `X-CSRF-Token`, which only our page can
read (from `/ui/session`). Requests that bring a key in a header are not cookie-authenticated
and pass untouched. Sign-in itself (`/ui/login`) has no session yet; it is checked by
`Origin` instead.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import presented_key
from gateway.errors import PermissionDeniedError, error_body_bytes
from gateway.signin.session import CSRF_HEADER, SessionCodec

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATH = "/ui/login"


def same_origin(headers: Headers, scheme: str) -> bool:
    """True unless the browser says the request comes from another origin."""
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = headers.get("host", "")
    return origin in {f"{scheme}://{host}", f"https://{host}", f"http://{host}"}


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, sessions: SessionCodec) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": refusal.status_code,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": error_body_bytes(refusal)})

    def _refusal(self, scope: Scope) -> PermissionDeniedError | None:
        headers = Headers(scope=scope)
        if scope["path"] == LOGIN_PATH:
            if same_origin(headers, scope.get("scheme", "http")):
                return None
            return PermissionDeniedError("Sign-in from another site.", code="csrf_origin")
        if presented_key(headers) is not None:
            return None
        session = self.sessions.from_headers(headers)
        if session is None:
            return None  # not cookie-authenticated: the route's own auth decides
        token = headers.get(CSRF_HEADER, "")
        if token and hmac.compare_digest(token.encode(), session.csrf.encode()):
            return None
        return PermissionDeniedError(
            f"Missing or wrong {CSRF_HEADER} header for a signed-in change.", code="csrf_failed"
        )
