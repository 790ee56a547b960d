"""Admin page sign-in with a session cookie: password (`UI_USERNAME`/`UI_PASSWORD`) and
LiteLLM's generic SSO (`GENERIC_*`, `/sso/key/generate` → `/sso/callback`), with CSRF
protection for cookie-authenticated calls."""

from gateway.signin.authenticator import with_sessions
from gateway.signin.csrf import CsrfMiddleware
from gateway.signin.routes import routes
from gateway.signin.session import Session, SessionCodec, build_session_codec

__all__ = [
    "CsrfMiddleware",
    "Session",
    "SessionCodec",
    "build_session_codec",
    "routes",
    "with_sessions",
]
