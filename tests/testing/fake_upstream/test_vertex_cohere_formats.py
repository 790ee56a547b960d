"""The fake's Vertex AI side (its Google token endpoint and the generate/rawPredict routes) and
its Cohere Chat v2 route: as strict as the real services, so a wrong signature, token,
project or body fails here before it could pass a gateway test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests.gateway.providers.google_keys import PROJECT, ServiceAccountKey, new_service_account
from tests.support.processes import ServiceProcess
from tests.testing.fake_upstream.conftest import TEST_KEY

CLOUD = "https://www.googleapis.com/auth/cloud-platform"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
BASE = f"/v1/projects/{PROJECT}/locations/us-central1/publishers"
GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.fixture(scope="module")
def account(upstream: ServiceProcess) -> ServiceAccountKey:
    key = new_service_account(f"{upstream.url}/token")
    key.register(upstream.url)
    return key


def _assertion(key: ServiceAccountKey, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": key.email,
        "scope": CLOUD,
        "aud": "https://oauth2.googleapis.com/token",
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(payload, key.info["private_key"], algorithm="RS256")


def _grant(control: httpx.Client, assertion: str, grant: str = GRANT) -> httpx.Response:
    return control.post("/token", data={"grant_type": grant, "assertion": assertion})


@pytest.fixture
def token(control: httpx.Client, account: ServiceAccountKey) -> str:
    response = _grant(control, _assertion(account))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return str(body["access_token"])


@pytest.mark.parametrize(
    ("forge", "error", "fragment"),
    [
        ("signature", "invalid_grant", "Invalid JWT Signature."),
        ("issuer", "invalid_grant", "account not found"),
        ("expired", "invalid_grant", "short-lived"),
        ("audience", "invalid_grant", "audience"),
        ("scope", "invalid_scope", "Invalid scope"),
        ("grant", "unsupported_grant_type", "grant_type"),
    ],
)
def test_token_endpoint_refuses_what_google_refuses(
    control: httpx.Client, account: ServiceAccountKey, forge: str, error: str, fragment: str
) -> None:
    assertion = _assertion(account)
    grant = GRANT
    if forge == "signature":
        assertion = _assertion(account.with_other_private_key())
    elif forge == "issuer":
        assertion = _assertion(account, iss="nobody@example.iam.gserviceaccount.com")
    elif forge == "expired":
        assertion = _assertion(account, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    elif forge == "audience":
        assertion = _assertion(account, aud="https://example.com/token")
    elif forge == "scope":
        assertion = _assertion(account, scope="https://www.googleapis.com/auth/userinfo.email")
    else:
        grant = "client_credentials"
    response = _grant(control, assertion, grant)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert fragment in response.json()["error_description"]


def test_vertex_gemini_demands_a_minted_token_for_its_project(
    control: httpx.Client, token: str
) -> None:
    bearer = {"authorization": f"Bearer {token}"}
    ok = control.post(
        f"{BASE}/google/models/echo:generateContent", json=GEMINI_BODY, headers=bearer
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["candidates"][0]["content"]["parts"] == [{"text": "hi"}]

    anonymous = control.post(f"{BASE}/google/models/echo:generateContent", json=GEMINI_BODY)
    assert (anonymous.status_code, anonymous.json()["error"]["status"]) == (401, "UNAUTHENTICATED")
    other = BASE.replace(PROJECT, "other-project")
    denied = control.post(
        f"{other}/google/models/echo:generateContent", json=GEMINI_BODY, headers=bearer
    )
    assert (denied.status_code, denied.json()["error"]["status"]) == (403, "PERMISSION_DENIED")
    nowhere = BASE.replace("us-central1", "moon-base1")
    lost = control.post(
        f"{nowhere}/google/models/echo:generateContent", json=GEMINI_BODY, headers=bearer
    )
    assert lost.status_code == 400


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"anthropic_version": "2023-06-01"}, "vertex-2023-10-16"),
        ({"anthropic_version": "vertex-2023-10-16", "model": "claude"}, "the URL names it"),
        ({"anthropic_version": "vertex-2023-10-16", "stream": True}, "stream must be false"),
    ],
)
def test_vertex_claude_body_is_anthropic_minus_model(
    control: httpx.Client, token: str, body: dict[str, Any], fragment: str
) -> None:
    url = f"{BASE}/anthropic/models/claude-sonnet-4@20250514:rawPredict"
    headers = {"authorization": f"Bearer {token}"}
    base = {"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    good = control.post(
        url, json={**base, "anthropic_version": "vertex-2023-10-16"}, headers=headers
    )
    assert good.status_code == 200, good.text
    assert good.json()["type"] == "message"
    bad = control.post(url, json={**base, **body}, headers=headers)
    assert bad.status_code == 400
    assert fragment in bad.json()["error"]["message"]


@pytest.fixture
def cohere(keyed_upstream: ServiceProcess) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {TEST_KEY}"}
    with httpx.Client(base_url=keyed_upstream.url, headers=headers, timeout=10) as http:
        yield http


CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]


def test_cohere_answers_a_tool_round_trip(cohere: httpx.Client) -> None:
    called = cohere.post(
        "/v2/chat",
        json={
            "model": "tool-call",
            "messages": [{"role": "user", "content": "weather?"}],
            "tools": TOOLS,
        },
    )
    assert called.status_code == 200, called.text
    body = called.json()
    assert body["finish_reason"] == "TOOL_CALL"
    assert body["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert body["usage"]["tokens"]["input_tokens"] > 0
    answered = cohere.post(
        "/v2/chat",
        json={
            "model": "echo",
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "tool_plan": "I will look.", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
            ],
            "tools": TOOLS,
        },
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["message"]["content"] == [{"type": "text", "text": "weather?"}]


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"top_p": 0.5}, "parameter top_p is not a valid field"),
        ({"tool_choice": "auto"}, "REQUIRED or NONE"),
        ({"p": 1.5}, "p must be between"),
        ({"messages": [{"role": "assistant", "tool_calls": [CALL]}]}, "were not answered"),
        ({"messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}]}, "answers no"),
    ],
)
def test_cohere_refuses_what_the_api_refuses(
    cohere: httpx.Client, patch: dict[str, Any], fragment: str
) -> None:
    body = {"model": "echo", "messages": [{"role": "user", "content": "hi"}], **patch}
    response = cohere.post("/v2/chat", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_cohere_without_the_key_is_401(keyed_upstream: ServiceProcess) -> None:
    response = httpx.post(
        f"{keyed_upstream.url}/v2/chat",
        json={"model": "echo", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": "Bearer wrong"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["message"] == "invalid api token"
