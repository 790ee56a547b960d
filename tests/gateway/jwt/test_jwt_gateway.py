"""JWT auth through a real gateway process: roles, expiry, audience, signatures, rotation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.gateway.jwt.conftest import AUDIENCE, Issuer, SigningKey
from tests.support.processes import ServiceProcess

CHAT = {"model": "gpt-echo", "messages": [{"role": "user", "content": "hello via jwt"}]}


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess,
    issuer: Issuer,
    tmp_path_factory: pytest.TempPathFactory,
    service_log_dir: Path,
) -> Iterator[ServiceProcess]:
    config = {
        "model_list": [
            {
                "model_name": "gpt-echo",
                "litellm_params": {
                    "model": "openai/echo",
                    "api_base": f"{fake_upstream.url}/v1",
                    "api_key": UPSTREAM_KEY,
                    "input_cost_per_token": 0.001,
                    "output_cost_per_token": 0.001,
                },
            }
        ],
        "general_settings": {
            "master_key": MASTER_KEY,
            "enable_jwt_auth": True,
            "litellm_jwtauth": {
                "team_ids_jwt_field": "groups",
                "min_refresh_interval": 0,
            },
        },
    }
    service = start_gateway(
        config,
        tmp_path_factory.mktemp("jwt"),
        service_log_dir,
        env={"JWT_PUBLIC_KEY_URL": issuer.url, "JWT_AUDIENCE": AUDIENCE},
    )
    yield service
    service.stop()


def call(
    gateway: ServiceProcess, token: str, path: str = "/v1/chat/completions", body: Any = None
) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}{path}",
        json=CHAT if body is None else body,
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_user_token_calls_models_and_makes_only_own_keys(
    gateway: ServiceProcess, issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"], keys["ec"])
    token = keys["rsa"].token(sub="alice")
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=token, max_retries=0) as client:
        reply = client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    assert "hello via jwt" in reply.choices[0].message.content
    # An internal user manages their own keys, nobody else's, and no admin route.
    own = call(gateway, token, "/key/generate", {})
    assert own.status_code == 200 and own.json()["user_id"] == "alice"
    assert call(gateway, token, "/key/generate", {"user_id": "bob"}).status_code == 403
    assert call(gateway, token, "/team/new", {}).status_code == 403


def test_admin_token_manages_keys(
    gateway: ServiceProcess, issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"], keys["ec"])
    token = keys["ec"].token(sub="root", realm_access={"roles": ["AI_ADMIN"]})
    created = call(gateway, token, "/key/generate", {"key_alias": "made-by-jwt-admin"})
    assert created.status_code == 200, created.text
    assert created.json()["key"].startswith("sk-")


def test_admin_scope_is_admin_too(gateway: ServiceProcess, keys: dict[str, SigningKey]) -> None:
    token = keys["rsa"].token(realm_access=None, scope="openid litellm_proxy_admin")
    assert call(gateway, token, "/key/generate", {}).status_code == 200


@pytest.mark.parametrize(
    ("claims", "status", "code"),
    [
        ({"exp": int(time.time()) - 3600}, 401, "token_expired"),
        ({"aud": "someone-else"}, 401, "invalid_audience"),
        ({"exp": None}, 401, "missing_claim"),
        ({"realm_access": {"roles": ["VISITOR"]}}, 403, "no_access_role"),
    ],
)
def test_refused_tokens(
    gateway: ServiceProcess,
    keys: dict[str, SigningKey],
    claims: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = call(gateway, keys["rsa"].token(**claims))
    assert (response.status_code, error_code(response)) == (status, code)


def test_wrong_signature(gateway: ServiceProcess, keys: dict[str, SigningKey]) -> None:
    response = call(gateway, keys["impostor"].token())
    assert (response.status_code, error_code(response)) == (401, "invalid_signature")


def test_unknown_kid_then_rotation(
    gateway: ServiceProcess, issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"], keys["ec"])
    before = issuer.fetches
    response = call(gateway, keys["stranger"].token())
    assert (response.status_code, error_code(response)) == (401, "unknown_kid")
    assert issuer.fetches == before + 1  # it looked once for the unknown key
    issuer.publish(keys["rotated"])  # the issuer rotates: a new key, the old one withdrawn
    assert call(gateway, keys["rotated"].token()).status_code == 200
    assert issuer.fetches == before + 2


def test_master_key_still_works(gateway: ServiceProcess) -> None:
    assert call(gateway, MASTER_KEY).status_code == 200


def test_jwt_user_has_budgets_like_keys(
    gateway: ServiceProcess, issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"])
    created = call(gateway, MASTER_KEY, "/user/new", {"user_id": "thrifty", "max_budget": 1e-7})
    assert created.status_code == 200, created.text
    token = keys["rsa"].token(sub="thrifty")
    statuses = []
    for _ in range(2):
        response = call(gateway, token)
        statuses.append(response.status_code)
        if response.status_code == 422:
            assert error_code(response) == "budget_exceeded"
            break
    assert statuses[-1] == 422


def test_jwt_team_from_groups_claim_gets_team_limits(
    gateway: ServiceProcess, issuer: Issuer, keys: dict[str, SigningKey]
) -> None:
    issuer.publish(keys["rsa"])
    created = call(
        gateway, MASTER_KEY, "/team/new", {"team_id": "jwt-team", "models": ["other-model"]}
    )
    assert created.status_code == 200, created.text
    token = keys["rsa"].token(sub="bob", groups=["not-a-team", "jwt-team"])
    response = call(gateway, token)
    assert (response.status_code, error_code(response)) == (403, "model_access_denied")
