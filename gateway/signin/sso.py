"""LiteLLM's generic SSO flow, server side: `/sso/key/generate` sends the browser to the
provider, `/sso/callback` takes the code back, and the person lands on `/ui` signed in.

The code is exchanged at the token endpoint with the client secret (and PKCE, which
providers that do not ask for it ignore). Who the person is comes from the userinfo
endpoint, falling back to the ID token and the access token. Those tokens come straight
from the provider over the back channel, so their claims are read without a signature
check (OpenID Connect Core 3.1.3.7); nothing the browser sends is trusted this way.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog

from gateway.jwt.claims import claim
from gateway.roles import INTERNAL_USER_VIEWER, PROXY_ADMIN, strongest_role
from gateway.signin.sso_settings import SSOSettings

log = structlog.get_logger("toolrelay.gateway.sso")
FLOW_COOKIE = "toolrelay_sso_flow"
FLOW_TTL_SECONDS = 600.0
# LiteLLM gives SSO users with no recognised role the view-only internal role.
DEFAULT_ROLE = INTERNAL_USER_VIEWER


class SSOFailedError(Exception):
    """The sign-in did not complete; the message is shown to the person."""


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    role: str
    email: str | None = None


def _s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def new_flow(settings: SSOSettings) -> dict[str, str]:
    return {
        "state": settings.client_state or secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
    }


def authorization_url(settings: SSOSettings, flow: Mapping[str, str]) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": settings.redirect_uri,
        "scope": settings.scope,
        "state": flow["state"],
        "code_challenge": _s256(flow["verifier"]),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in settings.authorization_endpoint else "?"
    return f"{settings.authorization_endpoint}{separator}{urlencode(query)}"


def _unverified_claims(token: object) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    # Imported here, at a sign-in: PyJWT loads cryptography (about 7 MB resident), which a
    # gateway that never signs anyone in through SSO does not need.
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims


async def _post_token(
    http: httpx.AsyncClient, settings: SSOSettings, code: str, verifier: str
) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.redirect_uri,
        "client_id": settings.client_id,
        "code_verifier": verifier,
    }
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    try:
        response = await http.post(settings.token_endpoint, data=form, timeout=15.0)
    except httpx.HTTPError as exc:
        raise SSOFailedError(
            f"The sign-in provider is not reachable ({type(exc).__name__})."
        ) from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code != 200 or not isinstance(payload, dict):
        reason = (
            (payload.get("error_description") or payload.get("error"))
            if isinstance(payload, dict)
            else None
        ) or f"HTTP {response.status_code}"
        log.warning("SSO code exchange refused", status=response.status_code, reason=str(reason))
        raise SSOFailedError(f"The sign-in provider refused the code ({reason}).")
    return payload


async def _userinfo(http: httpx.AsyncClient, settings: SSOSettings, token: str) -> dict[str, Any]:
    if settings.userinfo_endpoint is None:
        return {}
    try:
        response = await http.get(
            settings.userinfo_endpoint, headers={"authorization": f"Bearer {token}"}, timeout=15.0
        )
        info = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise SSOFailedError(f"The userinfo endpoint failed ({type(exc).__name__}).") from exc
    if not isinstance(info, dict):
        raise SSOFailedError(f"The userinfo endpoint answered HTTP {response.status_code}.")
    return info


def identity(
    claims: Mapping[str, Any], settings: SSOSettings, role_mappings: Mapping[str, str]
) -> Identity:
    found = dict(claims)
    user = claim(found, settings.user_id_attribute) or claim(found, "sub")
    if not isinstance(user, str | int) or not str(user):
        raise SSOFailedError(
            f"The provider named no user ({settings.user_id_attribute} and sub are missing)."
        )
    user_id = str(user)
    raw_roles = claim(found, settings.role_attribute)
    names = [raw_roles] if isinstance(raw_roles, str) else raw_roles
    role = strongest_role(
        [n for n in names if isinstance(n, str)] if isinstance(names, list) else [],
        role_mappings,
    )
    if settings.admin_id is not None and user_id == settings.admin_id:
        role = PROXY_ADMIN
    email = claim(found, settings.email_attribute)
    return Identity(
        user_id=user_id, role=role or DEFAULT_ROLE, email=email if isinstance(email, str) else None
    )


async def finish(
    http: httpx.AsyncClient,
    settings: SSOSettings,
    role_mappings: Mapping[str, str],
    code: str,
    verifier: str,
) -> Identity:
    tokens = await _post_token(http, settings, code, verifier)
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str):
        raise SSOFailedError("The sign-in provider returned no access token.")
    claims = {**_unverified_claims(access_token), **_unverified_claims(tokens.get("id_token"))}
    claims.update(await _userinfo(http, settings, access_token))
    return identity(claims, settings, role_mappings)
