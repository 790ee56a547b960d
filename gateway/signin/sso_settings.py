"""LiteLLM's generic SSO variables, read as LiteLLM reads them.

    GENERIC_CLIENT_ID, GENERIC_CLIENT_SECRET
    GENERIC_AUTHORIZATION_ENDPOINT, GENERIC_TOKEN_ENDPOINT, GENERIC_USERINFO_ENDPOINT
    GENERIC_SCOPE                  default "openid email profile"
    GENERIC_CLIENT_STATE           a fixed `state` (some providers want one); else random
    GENERIC_USER_ID_ATTRIBUTE      default "preferred_username" (then "sub")
    GENERIC_USER_EMAIL_ATTRIBUTE   default "email"
    GENERIC_USER_ROLE_ATTRIBUTE    default "role"; dotted paths walk in ("realm_access.roles")
    PROXY_BASE_URL                 the public URL; the redirect URI is PROXY_BASE_URL/sso/callback
    PROXY_ADMIN_ID                 this user id is proxy_admin whatever the provider says

The server-side flow needs the client id, both endpoints and PROXY_BASE_URL. Without
PROXY_BASE_URL the admin page's own PKCE flow (`gateway.oidc`) can still sign in when JWT
auth is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.config import ConfigError

DEFAULT_SCOPE = "openid email profile"
CALLBACK_PATH = "/sso/callback"
START_PATH = "/sso/key/generate"


@dataclass(frozen=True, slots=True)
class SSOSettings:
    client_id: str
    authorization_endpoint: str
    token_endpoint: str
    base_url: str
    client_secret: str | None = None
    userinfo_endpoint: str | None = None
    scope: str = DEFAULT_SCOPE
    client_state: str | None = None
    user_id_attribute: str = "preferred_username"
    email_attribute: str = "email"
    role_attribute: str = "role"
    admin_id: str | None = None

    @property
    def redirect_uri(self) -> str:
        return self.base_url.rstrip("/") + CALLBACK_PATH

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.lower().startswith("https://")


def sso_settings(environ: Mapping[str, str]) -> SSOSettings | None:
    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    client_id = get("GENERIC_CLIENT_ID")
    base_url = get("PROXY_BASE_URL")
    if client_id is None or base_url is None:
        return None
    authorization, token = get("GENERIC_AUTHORIZATION_ENDPOINT"), get("GENERIC_TOKEN_ENDPOINT")
    missing = [
        name
        for name, value in (
            ("GENERIC_AUTHORIZATION_ENDPOINT", authorization),
            ("GENERIC_TOKEN_ENDPOINT", token),
        )
        if value is None
    ]
    if missing or authorization is None or token is None:
        raise ConfigError(f"SSO sign-in (GENERIC_CLIENT_ID is set) needs {' and '.join(missing)}")
    if not base_url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"PROXY_BASE_URL must be an http(s) URL, got {base_url!r}")
    return SSOSettings(
        client_id=client_id,
        authorization_endpoint=authorization,
        token_endpoint=token,
        base_url=base_url,
        client_secret=get("GENERIC_CLIENT_SECRET"),
        userinfo_endpoint=get("GENERIC_USERINFO_ENDPOINT"),
        scope=get("GENERIC_SCOPE") or DEFAULT_SCOPE,
        client_state=get("GENERIC_CLIENT_STATE"),
        user_id_attribute=get("GENERIC_USER_ID_ATTRIBUTE") or "preferred_username",
        email_attribute=get("GENERIC_USER_EMAIL_ATTRIBUTE") or "email",
        role_attribute=get("GENERIC_USER_ROLE_ATTRIBUTE") or "role",
        admin_id=get("PROXY_ADMIN_ID"),
    )
