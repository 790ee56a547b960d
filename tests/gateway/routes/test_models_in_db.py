"""Models added at runtime (`STORE_MODEL_IN_DB=True`), on two real gateway processes that
share PostgreSQL and Redis, in front of real fake-upstream processes, driven by the openai SDK.

Shapes: https://docs.litellm.ai/docs/proxy/model_management (`/model/new`, `/model/update`,
`/model/delete`, `/model/info`) and https://docs.litellm.ai/docs/proxy/credentials
(`/credentials`, `litellm_credential_name`).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy.engine import make_url

from testing.fake_upstream import command_args
from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.components import require_component, tcp_port_open
from tests.support.processes import ServiceProcess, free_port, start_service

SALT_KEY = "salt-for-the-models-in-db-test"
USER = [{"role": "user", "content": "hello"}]
FIXED = "Hello from the fake upstream."


@dataclass
class Fleet:
    a: ServiceProcess
    b: ServiceProcess
    upstream: ServiceProcess
    other_upstream: ServiceProcess
    database: str


def admin(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=30.0
    )


def wait_for(check: Any, bound: float) -> float:
    """Poll `check()` until it is true; the seconds it took. Fails past `bound`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > bound:
            raise AssertionError(f"not true within {bound}s")
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def fleet(
    postgres_database: str,
    fake_upstream: ServiceProcess,
    tmp_path_factory: pytest.TempPathFactory,
    service_log_dir: Path,
) -> Iterator[Fleet]:
    require_component(tcp_port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    port = free_port()
    other = start_service(
        "fake-upstream-2",
        command_args(port, require_key=UPSTREAM_KEY),
        port=port,
        log_dir=service_log_dir,
        health_path="/health",
    )
    config = {
        "model_list": [],
        "general_settings": {"master_key": MASTER_KEY, "database_url": postgres_database},
    }
    env = {
        "STORE_MODEL_IN_DB": "True",
        "LITELLM_SALT_KEY": SALT_KEY,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "TOOLRELAY_ROUTER_NAMESPACE": f"test-models-in-db:{uuid.uuid4().hex[:8]}",
    }
    a = start_gateway(config, tmp_path_factory.mktemp("gw-a"), service_log_dir, env=env)
    b = start_gateway(config, tmp_path_factory.mktemp("gw-b"), service_log_dir, env=env)
    try:
        yield Fleet(a, b, fake_upstream, other, postgres_database)
    finally:
        a.stop()
        b.stop()
        other.stop()


def sdk(gateway: ServiceProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)


def answers(gateway: ServiceProcess, model: str) -> bool:
    with sdk(gateway) as client:
        try:
            reply = client.chat.completions.create(model=model, messages=USER)  # type: ignore[arg-type]
        except openai.APIStatusError:
            return False
    return reply.choices[0].message.content == FIXED


def add_model(gateway: ServiceProcess, name: str, params: dict[str, Any]) -> dict[str, Any]:
    with admin(gateway.url) as client:
        response = client.post("/model/new", json={"model_name": name, "litellm_params": params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def recorded_models(upstream: ServiceProcess) -> list[str]:
    found = httpx.get(f"{upstream.url}/__fake__/requests").json()["data"]
    return [str((r.get("body") or {}).get("model")) for r in found]


def test_models_added_updated_and_deleted_through_the_api(fleet: Fleet) -> None:
    name_gpt, name_claude = f"db-gpt-{uuid.uuid4().hex[:6]}", f"db-claude-{uuid.uuid4().hex[:6]}"
    gpt = add_model(
        fleet.a,
        name_gpt,
        {"model": "openai/fixed", "api_base": f"{fleet.upstream.url}/v1", "api_key": UPSTREAM_KEY},
    )
    add_model(
        fleet.a,
        name_claude,
        {"model": "anthropic/fixed", "api_base": fleet.upstream.url, "api_key": UPSTREAM_KEY},
    )
    # LiteLLM_ProxyModelTable's shape, the key masked.
    assert gpt["model_name"] == name_gpt and gpt["model_id"]
    assert gpt["litellm_params"]["api_key"] == "********"
    assert gpt["model_info"]["id"] == gpt["model_id"] and gpt["model_info"]["db_model"] is True
    assert answers(fleet.a, name_gpt)
    assert answers(fleet.a, name_claude)

    with admin(fleet.a.url) as client:
        info = client.get("/model/info").json()["data"]
        mine = {m["model_name"]: m for m in info}
        assert mine[name_gpt]["model_info"]["db_model"] is True
        assert mine[name_gpt]["model_info"]["id"] == gpt["model_id"]

        # /model/update moves the api_base: the next request goes to the other upstream.
        httpx.delete(f"{fleet.other_upstream.url}/__fake__/requests")
        moved = client.post(
            "/model/update",
            json={
                "model_info": {"id": gpt["model_id"]},
                "litellm_params": {"api_base": f"{fleet.other_upstream.url}/v1"},
            },
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["litellm_params"]["api_base"] == f"{fleet.other_upstream.url}/v1"
    assert answers(fleet.a, name_gpt)
    assert recorded_models(fleet.other_upstream) == ["fixed"]

    with admin(fleet.a.url) as client:
        deleted = client.post("/model/delete", json={"id": gpt["model_id"]})
        assert deleted.json() == {"message": f"Model: {gpt['model_id']} deleted successfully"}
        assert client.get(f"/v1/models/{name_gpt}").status_code == 404
        chat = client.post("/v1/chat/completions", json={"model": name_gpt, "messages": USER})
        assert chat.json()["error"]["code"] == "model_not_found"
        again = client.post("/model/delete", json={"id": gpt["model_id"]})
        assert again.status_code == 404


def test_a_model_added_on_one_replica_answers_on_the_other(fleet: Fleet) -> None:
    name = f"db-shared-{uuid.uuid4().hex[:6]}"
    assert not answers(fleet.b, name)
    add_model(
        fleet.a,
        name,
        {"model": "openai/fixed", "api_base": f"{fleet.upstream.url}/v1", "api_key": UPSTREAM_KEY},
    )
    delay = wait_for(lambda: answers(fleet.b, name), bound=2.0)
    print(f"model added on replica A answered on replica B after {delay * 1000:.0f} ms")


def test_credentials_are_referenced_by_name(fleet: Fleet) -> None:
    credential, name = f"cred-{uuid.uuid4().hex[:6]}", f"db-cred-{uuid.uuid4().hex[:6]}"
    with admin(fleet.a.url) as client:
        made = client.post(
            "/credentials",
            json={
                "credential_name": credential,
                "credential_values": {"api_key": UPSTREAM_KEY},
                "credential_info": {"custom_llm_provider": "openai"},
            },
        )
        assert made.json() == {"success": True, "message": "Credential created successfully"}
        shown = client.get(f"/credentials/by_name/{credential}").json()
        assert shown == {
            "credential_name": credential,
            "credential_values": {"api_key": "********"},
            "credential_info": {"custom_llm_provider": "openai"},
        }
        missing = client.post(
            "/model/new",
            json={
                "model_name": name,
                "litellm_params": {"model": "openai/fixed", "litellm_credential_name": "nope"},
            },
        )
        assert missing.status_code == 400 and "nope" in missing.json()["error"]["message"]
    add_model(
        fleet.a,
        name,
        {
            "model": "openai/fixed",
            "api_base": f"{fleet.upstream.url}/v1",
            "litellm_credential_name": credential,
        },
    )
    assert answers(fleet.a, name)
    with admin(fleet.a.url) as client:
        listed = client.get("/credentials").json()["credentials"]
        assert credential in [c["credential_name"] for c in listed]
        gone = client.delete(f"/credentials/{credential}")
        assert gone.json() == {"success": True, "message": "Credential deleted successfully"}


def test_the_provider_key_is_nowhere_in_plain_text(fleet: Fleet) -> None:
    name = f"db-secret-{uuid.uuid4().hex[:6]}"
    add_model(
        fleet.a,
        name,
        {"model": "openai/fixed", "api_base": f"{fleet.upstream.url}/v1", "api_key": UPSTREAM_KEY},
    )
    assert answers(fleet.a, name)
    url = make_url(fleet.database)
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert b"proxy_models" in dump and name.encode() in dump  # the dump has the model...
    assert UPSTREAM_KEY.encode() not in dump  # ...but not its key
    bodies = []
    with admin(fleet.a.url) as client:
        for path in ("/model/info", "/v1/model/info", "/model_group/info", "/credentials"):
            bodies.append(client.get(path).text)
    assert all(UPSTREAM_KEY not in body for body in bodies)
    for gateway in (fleet.a, fleet.b):
        assert UPSTREAM_KEY not in gateway.log()


def test_model_routes_are_admin_only_and_config_models_read_only(fleet: Fleet) -> None:
    with admin(fleet.a.url) as client:
        key = client.post("/key/generate", json={}).json()["key"]
    user = httpx.Client(base_url=fleet.a.url, headers={"Authorization": f"Bearer {key}"})
    with user:
        for method, path in [
            ("POST", "/model/new"),
            ("POST", "/model/update"),
            ("PATCH", "/model/x/update"),
            ("POST", "/model/delete"),
            ("POST", "/credentials"),
            ("GET", "/credentials"),
            ("GET", "/credentials/by_name/x"),
            ("PATCH", "/credentials/x"),
            ("DELETE", "/credentials/x"),
        ]:
            response = user.request(method, path, json={})
            assert response.status_code == 403, (path, response.text)
        assert user.get("/model_group/info").status_code == 200
    with admin(fleet.a.url) as client:
        unknown = client.post(
            "/model/new",
            json={"model_name": "x", "litellm_params": {"model": "openai/x"}, "colour": "red"},
        )
        assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["message"]
