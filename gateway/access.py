"""Who may read or change what in the management API, from the caller's role and user id.

    role                   reads                          changes
    proxy_admin            everything                     everything
    proxy_admin_viewer     everything                     nothing
    internal_user          own keys, own spend, own user  own keys
    internal_user_viewer   own keys, own spend, own user  nothing
    (virtual key)          its own key info only          nothing

Handlers ask once per request and get a `Scope`: everything, or one user's rows. Rows
outside the scope are refused (403), never silently changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth import Principal
from gateway.errors import PermissionDeniedError
from gateway.roles import INTERNAL_USER, INTERNAL_USER_VIEWER, PROXY_ADMIN, PROXY_ADMIN_VIEWER

_READS_ALL = frozenset({PROXY_ADMIN, PROXY_ADMIN_VIEWER})
_READS_OWN = frozenset({INTERNAL_USER, INTERNAL_USER_VIEWER})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Scope:
    """Everything (`user_id` None) or the rows of one user."""

    user_id: str | None = None

    @property
    def everything(self) -> bool:
        return self.user_id is None

    def check_owner(self, owner: object, what: str) -> None:
        if self.user_id is not None and owner != self.user_id:
            raise PermissionDeniedError(
                f"You may only manage your own {what}.", code="not_your_resource"
            )


def role_of(principal: Principal) -> str | None:
    if principal.role is not None:
        return principal.role
    return PROXY_ADMIN if principal.is_admin else None


def _refuse(principal: Principal, path: str, changing: bool) -> PermissionDeniedError:
    role = role_of(principal)
    if role in (PROXY_ADMIN_VIEWER, INTERNAL_USER_VIEWER) and changing:
        return PermissionDeniedError(
            f"The {role} role can read but not change anything ({path}).", code="read_only_role"
        )
    return PermissionDeniedError(f"Only an admin may call {path}.", code="admin_only")


def admin_scope(principal: Principal, path: str, method: str) -> Scope:
    """Routes about everyone (teams, users, end users): proxy_admin, or a viewer reading."""
    role = role_of(principal)
    changing = method.upper() not in SAFE_METHODS
    if role == PROXY_ADMIN or (role == PROXY_ADMIN_VIEWER and not changing):
        return Scope()
    raise _refuse(principal, path, changing)


def owned_scope(principal: Principal, path: str, *, changing: bool) -> Scope:
    """Routes about keys and spend: admins see everything, internal users their own."""
    role = role_of(principal)
    if role == PROXY_ADMIN or (role in _READS_ALL and not changing):
        return Scope()
    if principal.user_id and (role == INTERNAL_USER or (role in _READS_OWN and not changing)):
        return Scope(user_id=principal.user_id)
    raise _refuse(principal, path, changing)
