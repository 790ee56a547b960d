"""Claims to a `Principal`: user, teams and role from configurable (dotted) claim paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.auth import Principal
from gateway.errors import PermissionDeniedError
from gateway.jwt.settings import JWTAuthSettings

ADMIN_ROLES = frozenset({"proxy_admin"})
USER_ROLES = frozenset({"internal_user", "internal_user_viewer", "team", "proxy_admin_viewer"})
_USER_ROLE_ORDER = ("proxy_admin_viewer", "internal_user", "internal_user_viewer", "team")
TeamExists = Callable[[str], bool]


def claim(claims: dict[str, Any], path: str | None) -> Any:
    """`realm_access.roles` walks into nested objects; a literal dotted key wins if present."""
    if not path:
        return None
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _always(_team: str) -> bool:
    return True


@dataclass
class ClaimMapper:
    settings: JWTAuthSettings
    team_exists: TeamExists = _always

    def internal_role(self, claims: dict[str, Any]) -> str | None:
        scopes = _strings(claims.get("scope", "")) + _strings(claims.get("scp"))
        if any(self.settings.admin_jwt_scope in s.split() for s in scopes):
            return "proxy_admin"
        roles = set(_strings(claim(claims, self.settings.roles_jwt_field)))
        mapped = {m.internal_role for m in self.settings.role_mappings if m.role in roles}
        if mapped & ADMIN_ROLES:
            return "proxy_admin"
        # the most powerful wins
        return next((r for r in _USER_ROLE_ORDER if r in mapped), None)

    def team_ids(self, claims: dict[str, Any]) -> list[str]:
        teams = _strings(claim(claims, self.settings.team_id_jwt_field))
        teams += [
            t for t in _strings(claim(claims, self.settings.team_ids_jwt_field)) if t not in teams
        ]
        return teams

    def principal(self, claims: dict[str, Any]) -> Principal:
        role = self.internal_role(claims)
        if role is None:
            raise PermissionDeniedError(
                "The token carries no role with access to this gateway.", code="no_access_role"
            )
        teams = self.team_ids(claims)
        # The first team the gateway knows gets the spend and limits; else the configured default.
        team = (
            next((t for t in teams if self.team_exists(t)), None) or self.settings.team_id_default
        )
        user = claim(claims, self.settings.user_id_jwt_field)
        email = claim(claims, self.settings.user_email_jwt_field)
        metadata: dict[str, Any] = {"jwt_role": role, "jwt_team_ids": teams}
        if isinstance(email, str):
            metadata["user_email"] = email
        return Principal(
            kind="jwt",
            is_admin=role in ADMIN_ROLES,
            key_alias=None,
            team_id=team,
            user_id=str(user) if isinstance(user, str | int) else None,
            metadata=metadata,
            role=role,
        )
