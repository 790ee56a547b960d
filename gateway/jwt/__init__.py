"""JWT auth against an OIDC issuer's JWKS, with LiteLLM's `litellm_jwtauth` settings.

The verifier (`verify.py`, `jwks.py`) is imported by `with_jwt_auth` only when
`enable_jwt_auth` is on: PyJWT and the `cryptography` it loads are about 9 MB of resident memory.
"""

from gateway.jwt.build import with_jwt_auth
from gateway.jwt.claims import ClaimMapper
from gateway.jwt.settings import JWTAuthSettings, parse_jwt_settings

__all__ = [
    "ClaimMapper",
    "JWTAuthSettings",
    "parse_jwt_settings",
    "with_jwt_auth",
]
