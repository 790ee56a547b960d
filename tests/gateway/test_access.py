"""The access policy, role by role (the API tests in tests/gateway/signin drive it end to end)."""

from __future__ import annotations

import pytest

from gateway.access import Scope, admin_scope, owned_scope
from gateway.auth import Principal
from gateway.errors import PermissionDeniedError


def person(role: str, user: str = "u1") -> Principal:
    return Principal(kind="session", is_admin=role == "proxy_admin", user_id=user, role=role)


MASTER = Principal(kind="master", is_admin=True)
KEY = Principal(kind="virtual_key", is_admin=False, user_id="u1", token="t")


@pytest.mark.parametrize(
    ("principal", "reads", "changes"),
    [
        (MASTER, Scope(), Scope()),
        (person("proxy_admin"), Scope(), Scope()),
        (person("proxy_admin_viewer"), Scope(), None),
        (person("internal_user"), Scope("u1"), Scope("u1")),
        (person("internal_user_viewer"), Scope("u1"), None),
        (person("team"), None, None),
        (KEY, None, None),
    ],
)
def test_owned_scope(principal: Principal, reads: Scope | None, changes: Scope | None) -> None:
    for changing, expected in ((False, reads), (True, changes)):
        if expected is None:
            with pytest.raises(PermissionDeniedError):
                owned_scope(principal, "/key/list", changing=changing)
        else:
            assert owned_scope(principal, "/key/list", changing=changing) == expected


def test_admin_scope_lets_viewers_read_only() -> None:
    assert admin_scope(person("proxy_admin_viewer"), "/team/list", "GET") == Scope()
    with pytest.raises(PermissionDeniedError) as refused:
        admin_scope(person("proxy_admin_viewer"), "/team/new", "POST")
    assert refused.value.code == "read_only_role"
    with pytest.raises(PermissionDeniedError) as refused:
        admin_scope(person("internal_user"), "/team/list", "GET")
    assert refused.value.code == "admin_only"


def test_owner_check() -> None:
    Scope().check_owner("anyone", "keys")
    Scope("u1").check_owner("u1", "keys")
    with pytest.raises(PermissionDeniedError):
        Scope("u1").check_owner("u2", "keys")
    with pytest.raises(PermissionDeniedError):
        Scope("u1").check_owner(None, "keys")
