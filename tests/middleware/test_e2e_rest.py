"""`/mcp/tools/list` and `/mcp/tools/call`: keys checked through the gateway, per-key limits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from tests.middleware.stack import MASTER_KEY, Stack, running_middleware, write_yaml
from tests.support.processes import ServiceProcess


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_tools_list_with_a_key(stack: Stack) -> None:
    response = httpx.get(f"{stack.middleware.url}/mcp/tools/list", headers=_auth(MASTER_KEY))
    assert response.status_code == 200
    servers = {s["name"]: s for s in response.json()["servers"]}
    assert servers["test"]["health"] == "healthy"
    assert "last_error" in servers["test"]
    names = {t["name"] for t in servers["test"]["tools"]}
    assert {"barrier", "picture", "test_echo"} <= names
    assert {t["name"] for t in servers["victim"]["tools"]} == {"victim_echo"}


def test_tool_api_refuses_missing_or_wrong_keys(stack: Stack) -> None:
    url = stack.middleware.url
    assert httpx.get(f"{url}/mcp/tools/list").status_code == 401
    assert httpx.get(f"{url}/mcp/tools/list", headers=_auth("wrong")).status_code == 401
    call = httpx.post(
        f"{url}/mcp/tools/call", json={"name": "test_echo", "arguments": {"text": "x"}}
    )
    assert call.status_code == 401
    assert call.json()["error"]["type"] == "authentication_error"


def test_tools_call_returns_mcp_content_with_stored_images(stack: Stack) -> None:
    url = stack.middleware.url
    echo = httpx.post(
        f"{url}/mcp/tools/call",
        json={"name": "test_echo", "arguments": {"text": "hi"}},
        headers=_auth(MASTER_KEY),
    )
    assert echo.status_code == 200
    assert echo.json()["content"] == [{"type": "text", "text": "echo: hi"}]
    assert echo.json()["isError"] is False

    picture = httpx.post(
        f"{url}/mcp/tools/call", json={"name": "picture"}, headers=_auth(MASTER_KEY)
    ).json()
    (item,) = picture["content"]
    assert item["type"] == "image" and item["mimeType"] == "image/png"
    assert httpx.get(item["url"]).content.startswith(b"\x89PNG")

    ambiguous = httpx.post(
        f"{url}/mcp/tools/call",
        json={"name": "echo", "arguments": {"text": "x"}},
        headers=_auth(MASTER_KEY),
    )
    assert ambiguous.status_code == 400
    by_server = httpx.post(
        f"{url}/mcp/tools/call",
        json={"name": "echo", "server": "victim", "arguments": {"text": "x"}},
        headers=_auth(MASTER_KEY),
    )
    assert by_server.json()["content"] == [{"type": "text", "text": "echo: x"}]
    missing = httpx.post(f"{url}/mcp/tools/call", json={"name": "nope"}, headers=_auth(MASTER_KEY))
    assert missing.status_code == 404


@dataclass
class Limited:
    middleware: ServiceProcess
    victim_key: str
    all_key: str

    @property
    def url(self) -> str:
        return self.middleware.url


def generate_key(gateway_url: str, metadata: dict[str, object]) -> str:
    response = httpx.post(
        f"{gateway_url}/key/generate", json={"metadata": metadata}, headers=_auth(MASTER_KEY)
    )
    assert response.status_code == 200, response.text
    key: str = response.json()["key"]
    return key


@pytest.fixture(scope="module")
def limited(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[Limited]:
    """Real virtual keys from the gateway's key API: one may use only the `victim` server."""
    victim_key = generate_key(stack.gateway.url, {"mcp_servers": ["victim"]})
    all_key = generate_key(stack.gateway.url, {})
    config = write_yaml(
        tmp_path_factory.mktemp("limited") / "middleware.yaml",
        {
            "mcp_servers": {
                name: {"url": f"{stack.mcp[name].url}/mcp"} for name in ("test", "victim")
            },
            "middleware_settings": {"gateway_url": stack.gateway.url},
        },
    )
    with running_middleware(config, service_log_dir) as middleware:
        deadline = time.monotonic() + 30
        while True:
            body = httpx.get(f"{middleware.url}/mcp/tools/list", headers=_auth(all_key)).json()
            if all(s["health"] == "healthy" for s in body["servers"]):
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        yield Limited(middleware, victim_key, all_key)


def test_a_key_limited_to_one_server_sees_and_calls_only_it(limited: Limited) -> None:
    listed = httpx.get(f"{limited.url}/mcp/tools/list", headers=_auth(limited.victim_key)).json()
    assert [s["name"] for s in listed["servers"]] == ["victim"]

    allowed = httpx.post(
        f"{limited.url}/mcp/tools/call",
        json={"name": "victim_echo", "arguments": {"text": "ok"}},
        headers=_auth(limited.victim_key),
    )
    assert allowed.status_code == 200
    refused = httpx.post(
        f"{limited.url}/mcp/tools/call", json={"name": "picture"}, headers=_auth(limited.victim_key)
    )
    assert refused.status_code == 403
    everything = httpx.get(f"{limited.url}/mcp/tools/list", headers=_auth(limited.all_key)).json()
    assert {s["name"] for s in everything["servers"]} == {"test", "victim"}
    # The master key is the gateway's admin: it sees every server.
    admin = httpx.get(f"{limited.url}/mcp/tools/list", headers=_auth(MASTER_KEY)).json()
    assert {s["name"] for s in admin["servers"]} == {"test", "victim"}
    assert httpx.get(f"{limited.url}/mcp/tools/list", headers=_auth("sk-nope")).status_code == 401


def test_a_limited_key_gets_and_runs_only_its_tools_in_chat(stack: Stack, limited: Limited) -> None:
    stack.script(
        "mw-repeat",
        [
            {
                "tool_calls": [
                    {"name": "picture", "arguments": {}},
                    {"name": "victim_echo", "arguments": {"text": "v"}},
                ]
            },
            {"text": "done"},
        ],
    )
    client = OpenAI(
        base_url=f"{limited.url}/v1", api_key=limited.victim_key, max_retries=0, timeout=60
    )

    client.chat.completions.create(model="mw-repeat", messages=[{"role": "user", "content": "x"}])

    first, second = stack.received("mw-repeat")[-2:]
    assert {t["function"]["name"] for t in first["tools"]} == {"victim_echo"}
    results = [m["content"] for m in second["messages"] if m["role"] == "tool"]
    assert results[0] == "Tool error: there is no tool named 'picture'."
    assert results[1] == "echo: v"


def test_litellm_rest_shapes_list_and_call_tools(stack: Stack) -> None:
    """LiteLLM's `/mcp-rest/*`: one tool list with `mcp_info`, a call naming `server_id`."""
    url = stack.middleware.url
    listed = httpx.get(f"{url}/mcp-rest/tools/list", headers=_auth(MASTER_KEY)).json()
    assert listed["error"] is None and listed["message"] == "Successfully retrieved tools"
    by_server: dict[str, set[str]] = {}
    for tool in listed["tools"]:
        assert set(tool) == {"name", "description", "inputSchema", "mcp_info"}
        by_server.setdefault(tool["mcp_info"]["server_name"], set()).add(tool["name"])
    assert {"echo", "barrier", "picture"} <= by_server["test"]
    assert by_server["victim"] == {"echo"}  # the server's own names, as LiteLLM lists them

    only = httpx.get(
        f"{url}/mcp-rest/tools/list", params={"server_id": "victim"}, headers=_auth(MASTER_KEY)
    ).json()
    assert [(t["name"], t["mcp_info"]["server_id"]) for t in only["tools"]] == [("echo", "victim")]
    unknown = httpx.get(
        f"{url}/mcp-rest/tools/list", params={"server_id": "nope"}, headers=_auth(MASTER_KEY)
    ).json()
    assert unknown["tools"] == [] and unknown["error"] == "server_not_found"

    called = httpx.post(
        f"{url}/mcp-rest/tools/call",
        json={"server_id": "victim", "name": "echo", "arguments": {"text": "via litellm"}},
        headers={"x-litellm-api-key": MASTER_KEY},
    )
    assert called.status_code == 200
    assert called.json()["content"] == [{"type": "text", "text": "echo: via litellm"}]
    assert called.json()["isError"] is False
    ambiguous = httpx.post(
        f"{url}/mcp-rest/tools/call", json={"name": "echo"}, headers=_auth(MASTER_KEY)
    )
    assert ambiguous.status_code == 400 and "server_id" in ambiguous.json()["error"]["message"]
    assert httpx.get(f"{url}/mcp-rest/tools/list").status_code == 401


def test_litellm_rest_keeps_a_limited_key_to_its_servers(limited: Limited) -> None:
    listed = httpx.get(
        f"{limited.url}/mcp-rest/tools/list", headers=_auth(limited.victim_key)
    ).json()
    assert {t["mcp_info"]["server_name"] for t in listed["tools"]} == {"victim"}
    refused_list = httpx.get(
        f"{limited.url}/mcp-rest/tools/list",
        params={"server_id": "test"},
        headers=_auth(limited.victim_key),
    )
    assert refused_list.status_code == 403
    refused = httpx.post(
        f"{limited.url}/mcp-rest/tools/call",
        json={"server_id": "test", "name": "picture"},
        headers=_auth(limited.victim_key),
    )
    assert refused.status_code == 403
