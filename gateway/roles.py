"""LiteLLM's user roles, and which one a set of role names from an identity provider means.

    proxy_admin            everything
    proxy_admin_viewer     reads everything, changes nothing
    internal_user          reads and manages their own keys, reads their own spend
    internal_user_viewer   reads their own keys and spend, changes nothing

An identity provider's role names go through the configured `role_mappings` (Keycloak's
`AI_ADMIN` → `proxy_admin`, ...); a name that already is one of LiteLLM's roles stands for
itself. With several, the most powerful wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

Role = Literal["proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer"]
PROXY_ADMIN: Final = "proxy_admin"
PROXY_ADMIN_VIEWER: Final = "proxy_admin_viewer"
INTERNAL_USER: Final = "internal_user"
INTERNAL_USER_VIEWER: Final = "internal_user_viewer"
# Most powerful first.
ROLES: tuple[Role, ...] = (PROXY_ADMIN, PROXY_ADMIN_VIEWER, INTERNAL_USER, INTERNAL_USER_VIEWER)


def as_role(name: str) -> Role | None:
    for role in ROLES:
        if role == name:
            return role
    return None


def strongest_role(names: Iterable[str], mappings: Mapping[str, str]) -> Role | None:
    """The most powerful role that any of `names` stands for (mapped, or literally)."""
    found: set[Role] = set()
    for name in names:
        role = as_role(mappings.get(name, name))
        if role is not None:
            found.add(role)
    return next((role for role in ROLES if role in found), None)
