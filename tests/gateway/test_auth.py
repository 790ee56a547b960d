from __future__ import annotations

import pytest

from gateway.auth import MasterKeyAuthenticator, presented_key
from gateway.errors import AuthenticationError


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"authorization": "Bearer sk-1"}, "sk-1"),
        ({"authorization": "bearer   sk-1 "}, "sk-1"),
        ({"x-litellm-api-key": "sk-2"}, "sk-2"),
        ({"x-litellm-api-key": "Bearer sk-2"}, "sk-2"),
        ({"api-key": "sk-3"}, "sk-3"),
        ({"x-api-key": "sk-4"}, "sk-4"),
        ({"authorization": "Basic abc"}, None),
        ({}, None),
    ],
)
def test_presented_key(headers: dict[str, str], expected: str | None) -> None:
    assert presented_key(headers) == expected


@pytest.mark.anyio
async def test_master_key_accepts_and_refuses() -> None:
    auth = MasterKeyAuthenticator("sk-master")
    principal = await auth.authenticate({"authorization": "Bearer sk-master"})
    assert principal.is_admin and principal.kind == "master"
    with pytest.raises(AuthenticationError, match="Invalid API key"):
        await auth.authenticate({"authorization": "Bearer sk-wrong"})
    with pytest.raises(AuthenticationError, match="No API key provided"):
        await auth.authenticate({})


@pytest.mark.anyio
async def test_no_master_key_means_open_access() -> None:
    principal = await MasterKeyAuthenticator(None).authenticate({})
    assert principal.kind == "open"
