"""Admin page sign-in through an OIDC issuer (authorization code with PKCE)."""

from gateway.oidc.routes import routes
from gateway.oidc.settings import OIDCSettings, oidc_settings

__all__ = ["OIDCSettings", "oidc_settings", "routes"]
