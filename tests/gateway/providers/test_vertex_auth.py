"""Vertex tokens: minted by google-auth from a throwaway service-account key, against the fake
token endpoint (which checks the JWT assertion's signature), cached, refreshed ahead of expiry
without holding requests, and every broken credential a clear error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import google.auth.exceptions
import orjson
import pytest

from gateway import errors
from gateway.providers.vertex_auth import VertexConfigError, VertexTokens
from testing.fake_upstream import FakeUpstream, serve_in_thread
from tests.gateway.providers.google_keys import PROJECT, new_service_account

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeUpstream, str]]:
    upstream = FakeUpstream()
    with serve_in_thread(upstream) as url:
        yield upstream, url


async def test_token_is_minted_from_the_key_and_cached(fake: tuple[FakeUpstream, str]) -> None:
    upstream, url = fake
    key = new_service_account(f"{url}/token")
    key.register(url)
    tokens = VertexTokens()
    before = upstream.state.google.minted

    account = await tokens.account(key.info)
    first = await tokens.token(account)
    again = await tokens.token(await tokens.account(key.info))

    assert first == again and first.startswith("ya29.fake-")
    assert upstream.state.google.minted == before + 1
    holder = upstream.state.google.holder(first)
    assert holder is not None and holder.email == key.email
    assert account.project == PROJECT


async def test_concurrent_requests_share_one_refresh(fake: tuple[FakeUpstream, str]) -> None:
    upstream, url = fake
    key = new_service_account(f"{url}/token")
    key.register(url)
    tokens = VertexTokens()
    before = upstream.state.google.minted
    account = await tokens.account(key.info)

    got = await asyncio.gather(*(tokens.token(account) for _ in range(8)))

    assert len(set(got)) == 1
    assert upstream.state.google.minted == before + 1


async def test_a_token_near_expiry_is_used_while_a_new_one_is_fetched(
    fake: tuple[FakeUpstream, str],
) -> None:
    upstream, url = fake
    key = new_service_account(f"{url}/token")
    # five minutes: still valid for google-auth, but inside the gateway's refresh-ahead window
    key.register(url, token_lifetime=300)
    tokens = VertexTokens()
    account = await tokens.account(key.info)
    first = await tokens.token(account)
    minted = upstream.state.google.minted

    served = await tokens.token(account)  # does not wait for the refresh it starts
    assert served == first
    assert account.refreshing is not None
    await account.refreshing

    assert upstream.state.google.minted == minted + 1
    assert account.credentials.token != first


async def test_forget_makes_the_next_request_mint_again(fake: tuple[FakeUpstream, str]) -> None:
    _, url = fake
    key = new_service_account(f"{url}/token")
    key.register(url)
    tokens = VertexTokens()
    account = await tokens.account(key.info)
    first = await tokens.token(account)

    tokens.forget(account)

    assert await tokens.token(account) != first


async def test_a_key_google_does_not_know_is_an_authentication_error(
    fake: tuple[FakeUpstream, str],
) -> None:
    _, url = fake
    key = new_service_account(f"{url}/token")
    key.register(url)
    tokens = VertexTokens()
    account = await tokens.account(key.with_other_private_key().info)

    with pytest.raises(errors.AuthenticationError, match="Invalid JWT Signature"):
        await tokens.token(account)


async def test_key_file_path_and_application_default_credentials(
    fake: tuple[FakeUpstream, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = fake
    key = new_service_account(f"{url}/token")
    key.register(url)
    path = tmp_path / "key.json"
    path.write_bytes(orjson.dumps(key.info))
    tokens = VertexTokens()

    from_file = await tokens.account(str(path))
    from_json_text = await tokens.account(orjson.dumps(key.info).decode())
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    from_adc = await tokens.account(None)

    for account in (from_file, from_json_text, from_adc):
        assert account.project == PROJECT
        assert (await tokens.token(account)).startswith("ya29.fake-")


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("/nonexistent/vertex-key.json", "No such file"),
        ({"type": "service_account", "client_email": "a@b"}, "missing fields"),
    ],
)
async def test_broken_credentials_are_a_clear_config_error(source: object, fragment: str) -> None:
    tokens = VertexTokens()
    with pytest.raises(VertexConfigError, match=fragment) as caught:
        await tokens.account(source)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.param == "vertex_credentials"
    assert "GOOGLE_APPLICATION_CREDENTIALS" in caught.value.message


async def test_a_failed_background_refresh_is_not_retried_on_every_request(
    fake: tuple[FakeUpstream, str],
) -> None:
    _, url = fake
    key = new_service_account(f"{url}/token")
    key.register(url, token_lifetime=300)
    tokens = VertexTokens()
    account = await tokens.account(key.info)
    first = await tokens.token(account)
    # Google stops accepting the key (rotated): the next refresh is refused
    new_service_account(f"{url}/token", email=key.email).register(url)

    assert await tokens.token(account) == first
    failed = account.refreshing
    assert failed is not None
    with pytest.raises(google.auth.exceptions.RefreshError):
        await failed

    assert await tokens.token(account) == first  # still valid: served, without a new attempt
    assert account.refreshing is failed


async def test_a_key_file_fixed_after_a_failure_is_picked_up(
    fake: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    _, url = fake
    path = tmp_path / "late-key.json"
    path.write_text("{}")
    tokens = VertexTokens()
    with pytest.raises(VertexConfigError):
        await tokens.account(str(path))

    key = new_service_account(f"{url}/token")
    key.register(url)
    path.write_bytes(orjson.dumps(key.info))

    account = await tokens.account(str(path))
    assert (await tokens.token(account)).startswith("ya29.fake-")
