"""`general_settings.litellm_jwtauth`, in LiteLLM's field names, plus where the keys are.

The JWKS URL comes from `JWT_PUBLIC_KEY_URL` (LiteLLM's variable) or `public_key_url`; the
expected audience from `JWT_AUDIENCE` or `audience`. Roles come from `roles_jwt_field`
(Keycloak's `realm_access.roles` by default) through `role_mappings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import validation_problems
from gateway.config import ConfigError

InternalRole = Literal[
    "proxy_admin", "internal_user", "internal_user_viewer", "team", "proxy_admin_viewer"
]
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class RoleMapping(BaseModel):
    role: str
    internal_role: InternalRole


def _default_role_mappings() -> list[RoleMapping]:
    return [
        RoleMapping(role="AI_ADMIN", internal_role="proxy_admin"),
        RoleMapping(role="AI_USER", internal_role="internal_user"),
    ]


class JWTAuthSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    admin_jwt_scope: str = "litellm_proxy_admin"
    user_id_jwt_field: str | None = "sub"
    user_email_jwt_field: str | None = None
    team_id_jwt_field: str | None = None
    team_ids_jwt_field: str | None = None
    team_id_default: str | None = None
    end_user_id_jwt_field: str | None = None
    roles_jwt_field: str | None = "realm_access.roles"
    role_mappings: list[RoleMapping] = Field(default_factory=_default_role_mappings)
    public_key_ttl: float = Field(default=600, gt=0)
    # toolrelay's own: where the issuer's keys are, what to expect, how often to refetch.
    public_key_url: str | None = None
    audience: str | None = None
    issuer: str | None = None
    algorithms: list[str] = Field(default_factory=lambda: list(ASYMMETRIC_ALGORITHMS))
    leeway_seconds: float = Field(default=30, ge=0)
    min_refresh_interval: float = Field(default=10, ge=0)


def parse_jwt_settings(raw: Mapping[str, Any], environ: Mapping[str, str]) -> JWTAuthSettings:
    try:
        settings = JWTAuthSettings.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc, "general_settings.litellm_jwtauth"))
        raise ConfigError(f"invalid JWT settings: {problems}") from None
    url = environ.get("JWT_PUBLIC_KEY_URL") or settings.public_key_url
    if not url:
        raise ConfigError(
            "general_settings.enable_jwt_auth is on but no JWKS URL is set: "
            "set JWT_PUBLIC_KEY_URL or general_settings.litellm_jwtauth.public_key_url"
        )
    unsafe = [a for a in settings.algorithms if a not in ASYMMETRIC_ALGORITHMS]
    if unsafe:
        raise ConfigError(
            f"general_settings.litellm_jwtauth.algorithms: only asymmetric algorithms "
            f"({', '.join(ASYMMETRIC_ALGORITHMS)}) are accepted, got {', '.join(unsafe)}"
        )
    return settings.model_copy(
        update={
            "public_key_url": url,
            "audience": environ.get("JWT_AUDIENCE") or settings.audience,
            "issuer": environ.get("JWT_ISSUER") or settings.issuer,
        }
    )
