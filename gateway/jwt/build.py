"""Build the JWT authenticator around the existing one when `enable_jwt_auth` is on."""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from gateway.auth import Authenticator
from gateway.config import LoadedConfig
from gateway.jwt.claims import ClaimMapper, TeamExists
from gateway.jwt.settings import parse_jwt_settings


def with_jwt_auth(
    config: LoadedConfig,
    inner: Authenticator,
    http: httpx.AsyncClient,
    team_exists: TeamExists,
    environ: Mapping[str, str] | None = None,
) -> Authenticator:
    general = config.file.general_settings
    if not general.enable_jwt_auth:
        return inner
    # Imported here: PyJWT and cryptography stay out of a gateway without JWT auth.
    from gateway.jwt.authenticator import JWTAuthenticator
    from gateway.jwt.jwks import JWKSCache
    from gateway.jwt.verify import TokenVerifier

    settings = parse_jwt_settings(
        general.litellm_jwtauth, os.environ if environ is None else environ
    )
    assert settings.public_key_url is not None  # parse_jwt_settings insists
    jwks = JWKSCache(
        url=settings.public_key_url,
        http=http,
        ttl=settings.public_key_ttl,
        min_refresh_interval=settings.min_refresh_interval,
    )
    return JWTAuthenticator(
        inner=inner,
        verifier=TokenVerifier(settings, jwks),
        mapper=ClaimMapper(settings, team_exists),
    )
