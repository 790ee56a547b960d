"""Who is asking: Open WebUI's signed user token, its plain headers, `user`, the key."""

from __future__ import annotations

import time
from typing import Any

import jwt

from middleware.end_user import EndUserResolver

SECRET = "a-shared-secret-of-reasonable-length-0123"


def _token(secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "u-1", "email": "a@b.c", "name": "A", "role": "user"}
    payload |= {"iss": "open-webui", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_valid_open_webui_token_names_the_user() -> None:
    resolver = EndUserResolver(jwt_secret=SECRET, trust_headers=False)
    user = resolver.resolve({"x-openwebui-user-jwt": _token()}, "ignored", "sk-1")
    assert (user.id, user.source, user.from_openwebui) == ("u-1", "openwebui-jwt", True)
    other_key = resolver.resolve({"x-openwebui-user-jwt": _token()}, None, "sk-2")
    assert user.session_key != other_key.session_key  # scoped by key
    assert "sk-1" not in user.session_key


def test_bad_tokens_are_ignored() -> None:
    resolver = EndUserResolver(jwt_secret=SECRET, trust_headers=False)
    bad = [
        _token(secret="another-secret-of-reasonable-length-0123"),
        _token(exp=int(time.time()) - 3600),
        _token(iss="someone-else"),
        jwt.encode({"sub": "u-1", "iss": "open-webui", "exp": int(time.time()) + 60}, "", "none"),
        "not.a.token",
    ]
    for token in bad:
        user = resolver.resolve({"x-openwebui-user-jwt": token}, None, "sk-1")
        assert user.id is None and user.source == "key", token


def test_without_a_secret_the_token_is_not_trusted() -> None:
    user = EndUserResolver(jwt_secret=None, trust_headers=False).resolve(
        {"x-openwebui-user-jwt": _token()}, None, "sk-1"
    )
    assert user.source == "key"


def test_plain_headers_only_when_the_operator_trusts_them() -> None:
    headers = {"x-openwebui-user-id": "u-9"}
    assert (
        EndUserResolver(jwt_secret=None, trust_headers=False).resolve(headers, None, "k").source
        == "key"
    )
    trusted = EndUserResolver(jwt_secret=None, trust_headers=True).resolve(headers, None, "k")
    assert (trusted.id, trusted.source) == ("u-9", "openwebui-header")


def test_the_request_user_field_and_the_key_alone() -> None:
    resolver = EndUserResolver(jwt_secret=None, trust_headers=False)
    named = resolver.resolve({}, "alice", "k")
    assert (named.id, named.source, named.from_openwebui) == ("alice", "request", False)
    anonymous = resolver.resolve({}, None, "k")
    assert (
        anonymous.id is None and anonymous.session_key == resolver.resolve({}, "", "k").session_key
    )
    assert named.session_key != anonymous.session_key
