"""Where the admin page signs in: LiteLLM's generic SSO variables, or `ui_settings.oidc`.

    GENERIC_CLIENT_ID, GENERIC_CLIENT_SECRET (optional: PKCE needs none),
    GENERIC_AUTHORIZATION_ENDPOINT, GENERIC_TOKEN_ENDPOINT, GENERIC_SCOPE

The tokens it returns are checked by the gateway's JWT auth (same issuer, same JWKS), so this
flow is used only with `enable_jwt_auth` and no `PROXY_BASE_URL`; otherwise LiteLLM's
server-side flow (`/sso/key/generate`, `gateway.signin`) takes over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config import ConfigError, LoadedConfig

DEFAULT_SCOPE = "openid email profile"
_FIELDS = {
    "client_id": "GENERIC_CLIENT_ID",
    "client_secret": "GENERIC_CLIENT_SECRET",
    "authorization_endpoint": "GENERIC_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "GENERIC_TOKEN_ENDPOINT",
    "scope": "GENERIC_SCOPE",
}


@dataclass(frozen=True, slots=True)
class OIDCSettings:
    client_id: str
    authorization_endpoint: str
    token_endpoint: str
    scope: str = DEFAULT_SCOPE
    client_secret: str | None = None

    def public(self) -> dict[str, Any]:
        """What the browser may know (never the secret)."""
        return {
            "enabled": True,
            "client_id": self.client_id,
            "authorization_endpoint": self.authorization_endpoint,
            "scope": self.scope,
        }


def oidc_settings(config: LoadedConfig, environ: Mapping[str, str]) -> OIDCSettings | None:
    raw = (config.file.ui_settings.model_extra or {}).get("oidc") or {}
    if not isinstance(raw, dict):
        raise ConfigError("ui_settings.oidc: expected a mapping")
    values = {name: raw.get(name) or environ.get(env) for name, env in _FIELDS.items()}
    if not values["client_id"]:
        return None
    missing = [n for n in ("authorization_endpoint", "token_endpoint") if not values[n]]
    if missing:
        raise ConfigError(
            "admin page sign-in (OIDC) needs "
            + " and ".join(f"ui_settings.oidc.{n} (or {_FIELDS[n]})" for n in missing)
        )
    if not config.file.general_settings.enable_jwt_auth or environ.get("PROXY_BASE_URL"):
        # The tokens of this flow are checked by JWT auth; without it (or with LiteLLM's
        # PROXY_BASE_URL set), the server-side flow of gateway.signin.sso signs people in.
        return None
    return OIDCSettings(
        client_id=str(values["client_id"]),
        authorization_endpoint=str(values["authorization_endpoint"]),
        token_endpoint=str(values["token_endpoint"]),
        scope=str(values["scope"] or DEFAULT_SCOPE),
        client_secret=str(values["client_secret"]) if values["client_secret"] else None,
    )
