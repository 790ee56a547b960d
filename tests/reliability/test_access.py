"""Access control on a real gateway: management routes are admin-only, a key stays inside its
models and budget, keys are stored hashed (and the hash is not a credential), and no secret
used in the run shows up in a log line, an error body or `/health`."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from tests.reliability.stack import MASTER_KEY, UPSTREAM_KEY, Stack, wait_spend_rows

MANAGEMENT = [
    ("POST", "/key/generate"),
    ("GET", "/key/info"),
    ("POST", "/key/update"),
    ("POST", "/key/delete"),
    ("GET", "/key/list"),
    ("POST", "/key/block"),
    ("POST", "/key/unblock"),
    ("POST", "/key/regenerate"),
    ("POST", "/team/new"),
    ("GET", "/team/info"),
    ("POST", "/team/update"),
    ("POST", "/team/delete"),
    ("GET", "/team/list"),
    ("POST", "/team/block"),
    ("POST", "/team/unblock"),
    ("POST", "/user/new"),
    ("GET", "/user/info"),
    ("POST", "/user/update"),
    ("POST", "/user/delete"),
    ("GET", "/user/list"),
    ("POST", "/customer/new"),
    ("GET", "/customer/info"),
    ("POST", "/customer/update"),
    ("POST", "/customer/delete"),
    ("GET", "/customer/list"),
    ("POST", "/customer/block"),
    ("POST", "/customer/unblock"),
    ("GET", "/spend/logs"),
    ("GET", "/spend/tags"),
    ("GET", "/model/info"),
    ("GET", "/health"),
    ("GET", "/ui/middleware/mcp/tools/list"),
    ("POST", "/ui/middleware/mcp/tools/call"),
    ("POST", "/ui/middleware/v1/chat/completions"),
]


@pytest.fixture(scope="module")
def user_key(stack: Stack) -> str:
    return stack.new_key(models=["echo"], key_alias="limited")


@pytest.mark.parametrize(("method", "path"), MANAGEMENT)
def test_management_routes_refuse_anonymous_and_virtual_keys(
    stack: Stack, user_key: str, method: str, path: str
) -> None:
    for headers in ({}, {"authorization": "Bearer sk-not-a-key"}):
        response = httpx.request(method, stack.url + path, headers=headers, json={}, timeout=30)
        assert response.status_code == 401, (path, response.text)
        assert set(response.json()["error"]) >= {"message", "type", "code"}
    if path == "/key/info":
        return  # a key may look at itself (LiteLLM); checked below
    response = httpx.request(
        method,
        stack.url + path,
        headers={"authorization": f"Bearer {user_key}"},
        json={},
        timeout=30,
    )
    assert response.status_code in {401, 403}, (path, response.text)


def test_key_info_of_another_key_is_refused(stack: Stack, user_key: str) -> None:
    other = stack.new_key()
    response = httpx.get(
        f"{stack.url}/key/info",
        params={"key": other},
        headers={"authorization": f"Bearer {user_key}"},
        timeout=30,
    )
    assert response.status_code in {401, 403}
    assert other not in response.text


def test_a_key_never_uses_models_outside_its_list(stack: Stack, user_key: str) -> None:
    headers = {"authorization": f"Bearer {user_key}"}
    body = {"model": "latency-300", "messages": [{"role": "user", "content": "x"}]}
    response = httpx.post(
        f"{stack.url}/v1/chat/completions", headers=headers, json=body, timeout=30
    )
    assert response.status_code in {401, 403}
    models = httpx.get(f"{stack.url}/v1/models", headers=headers, timeout=30).json()["data"]
    assert [m["id"] for m in models] == ["echo"]


def test_a_key_never_spends_past_its_budget(stack: Stack) -> None:
    key = stack.new_key(max_budget=0.000001)
    headers = {"authorization": f"Bearer {key}"}
    body = {"model": "echo", "messages": [{"role": "user", "content": "spend " * 50}]}
    first = httpx.post(f"{stack.url}/v1/chat/completions", headers=headers, json=body, timeout=30)
    assert first.status_code == 200
    rows = wait_spend_rows(stack, key, 1)
    assert float(str(rows[0]["spend"])) > 0.000001
    second = httpx.post(f"{stack.url}/v1/chat/completions", headers=headers, json=body, timeout=30)
    assert second.status_code == 422, second.text
    assert "budget" in second.json()["error"]["message"].lower()


def test_keys_are_stored_hashed_and_the_hash_is_not_a_credential(stack: Stack) -> None:
    key = stack.new_key(key_alias="hashed")
    with stack.admin() as admin:
        token = admin.get("/key/info", params={"key": key}).json()["info"]["token_id"]
    assert token != key and len(token) == 64
    databases = list(stack.home.rglob("*.db")) + list(stack.home.rglob("*.sqlite*"))
    assert databases
    for path in databases:
        with sqlite3.connect(path) as db:
            dump = "\n".join(db.iterdump())
        assert key not in dump
        assert MASTER_KEY not in dump
    response = httpx.get(
        f"{stack.url}/v1/models", headers={"authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 401


def test_no_secret_in_logs_errors_or_health(stack: Stack) -> None:
    key = stack.new_key(key_alias="secret-check")
    bodies = []
    with stack.admin() as admin:
        bodies.append(admin.get("/health").text)
        bodies.append(admin.get("/model/info").text)
        bodies.append(admin.get("/key/list").text)
        bodies.append(admin.get("/health/readiness").text)
    for model in ("error-500", "error-429", "malformed", "disconnect", "nope"):
        response = httpx.post(
            f"{stack.url}/v1/chat/completions",
            headers={"authorization": f"Bearer {key}"},
            json={"model": model, "messages": [{"role": "user", "content": "x"}]},
            timeout=30,
        )
        bodies.append(response.text)
    bodies.append(httpx.get(f"{stack.url}/metrics", timeout=30).text)
    everything = "\n".join([*bodies, stack.gateway.log()])
    for secret in (MASTER_KEY, UPSTREAM_KEY, key):
        assert secret not in everything
