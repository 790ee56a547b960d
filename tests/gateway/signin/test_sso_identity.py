"""Reading LiteLLM's GENERIC_* variables, and who a provider's claims make a person."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError
from gateway.signin.sso import SSOFailedError, identity
from gateway.signin.sso_settings import sso_settings

ENV = {
    "GENERIC_CLIENT_ID": "litellm",
    "GENERIC_AUTHORIZATION_ENDPOINT": "https://kc/auth",
    "GENERIC_TOKEN_ENDPOINT": "https://kc/token",
    "PROXY_BASE_URL": "https://gw.example/",
    "GENERIC_USER_ROLE_ATTRIBUTE": "realm_access.roles",
}
MAPPINGS = {"AI_ADMIN": "proxy_admin", "AI_USER": "internal_user"}


def test_settings_follow_litellm_names_and_defaults() -> None:
    settings = sso_settings(ENV)
    assert settings is not None
    assert settings.redirect_uri == "https://gw.example/sso/callback"
    assert settings.secure_cookies and settings.scope == "openid email profile"
    assert (settings.user_id_attribute, settings.email_attribute) == ("preferred_username", "email")
    assert sso_settings({k: v for k, v in ENV.items() if k != "PROXY_BASE_URL"}) is None
    with pytest.raises(ConfigError, match="GENERIC_TOKEN_ENDPOINT"):
        sso_settings({k: v for k, v in ENV.items() if k != "GENERIC_TOKEN_ENDPOINT"})


@pytest.mark.parametrize(
    ("claims", "env", "expected"),
    [
        ({"realm_access": {"roles": ["AI_USER", "AI_ADMIN"]}}, {}, "proxy_admin"),
        ({"realm_access": {"roles": ["AI_USER", "offline_access"]}}, {}, "internal_user"),
        ({"realm_access": {"roles": ["proxy_admin_viewer"]}}, {}, "proxy_admin_viewer"),
        ({"realm_access": {"roles": ["offline_access"]}}, {}, "internal_user_viewer"),
        ({}, {}, "internal_user_viewer"),
        ({"realm_access": {"roles": []}}, {"PROXY_ADMIN_ID": "kim"}, "proxy_admin"),
    ],
)
def test_role_from_claims(claims: dict[str, object], env: dict[str, str], expected: str) -> None:
    settings = sso_settings({**ENV, **env})
    assert settings is not None
    found = identity({"preferred_username": "kim", "sub": "s-1", **claims}, settings, MAPPINGS)
    assert (found.user_id, found.role) == ("kim", expected)


def test_user_id_falls_back_to_sub_and_is_required() -> None:
    settings = sso_settings(ENV)
    assert settings is not None
    assert identity({"sub": "s-1", "email": "k@x"}, settings, MAPPINGS).user_id == "s-1"
    assert identity({"sub": "s-1", "email": "k@x"}, settings, MAPPINGS).email == "k@x"
    with pytest.raises(SSOFailedError):
        identity({"email": "k@x"}, settings, MAPPINGS)
