"""JWT auth against an OIDC issuer's JWKS, with LiteLLM's `litellm_jwtauth` settings."""

from gateway.jwt.authenticator import JWTAuthenticator
from gateway.jwt.build import with_jwt_auth
from gateway.jwt.claims import ClaimMapper
from gateway.jwt.jwks import JWKSCache
from gateway.jwt.settings import JWTAuthSettings, parse_jwt_settings
from gateway.jwt.verify import TokenVerifier, looks_like_jwt

__all__ = [
    "ClaimMapper",
    "JWKSCache",
    "JWTAuthSettings",
    "JWTAuthenticator",
    "TokenVerifier",
    "looks_like_jwt",
    "parse_jwt_settings",
    "with_jwt_auth",
]
