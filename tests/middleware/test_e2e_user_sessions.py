"""Per-user MCP sessions with the real browser server (Chromium), and the Open WebUI user
behind one key: separate browser sessions, and spend under each end-user id."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
from openai import OpenAI

from tests.mcp_servers.site import Site, running_site
from tests.middleware.stack import (
    MASTER_KEY,
    Stack,
    gateway_config,
    running_gateway,
    running_middleware,
    write_yaml,
)
from tests.middleware.test_e2e_artifacts import CHROMIUM, _wait_healthy
from tests.support.components import require_component
from tests.support.processes import ServiceProcess, free_port, start_service

OWUI_SECRET = "owui-forward-secret-for-tests-0123456789"
MODEL = "mw-owui-browser"
MAX_USER_SESSIONS = 4


@dataclass
class BrowserStack:
    stack: Stack
    gateway: ServiceProcess
    middleware: ServiceProcess
    site: Site


def _owui_token(user_id: str, secret: str = OWUI_SECRET, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "sub": user_id,
        "email": f"{user_id}@example.com",
        "name": user_id.title(),
        "role": "user",
        "iss": "open-webui",
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def browser_stack(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[BrowserStack]:
    require_component(shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}")
    directory = tmp_path_factory.mktemp("user-sessions")
    # Its own gateway (with a price per token, so spend is not zero) and its own database.
    config = gateway_config(stack.upstream.url, [MODEL])
    config["model_list"][0]["litellm_params"]["input_cost_per_token"] = 0.001
    config["model_list"][0]["litellm_params"]["output_cost_per_token"] = 0.002
    config["general_settings"]["database_url"] = f"sqlite:///{directory / 'gateway.db'}"
    config["general_settings"]["proxy_batch_write_at"] = 0.2
    browser_port = free_port()
    browser_config = write_yaml(
        directory / "browser.yaml",
        {
            "mcp_server_settings": {
                "browser": {"allow_hosts": ["localhost"], "executable_path": CHROMIUM}
            }
        },
    )
    with (
        running_site() as site,
        running_gateway(write_yaml(directory / "gateway.yaml", config), service_log_dir) as gw,
    ):
        browser = start_service(
            "browser-mcp",
            [
                "-m",
                "mcp_servers.cli",
                "browser",
                "--port",
                str(browser_port),
                "--config",
                str(browser_config),
            ],
            port=browser_port,
            log_dir=service_log_dir,
            health_path="/healthz",
            timeout=60,
        )
        try:
            middleware_config = {
                "general_settings": {"master_key": MASTER_KEY},
                "mcp_servers": {"browser": {"url": f"{browser.url}/mcp"}},
                "middleware_settings": {
                    "gateway_url": gw.url,
                    "tool_timeout": 60,
                    "openwebui_jwt_secret": OWUI_SECRET,
                    "max_user_sessions": MAX_USER_SESSIONS,
                },
                "storage": {"local_dir": str(directory / "artifacts")},
            }
            path = write_yaml(directory / "middleware.yaml", middleware_config)
            with running_middleware(path, service_log_dir) as middleware:
                _wait_healthy(middleware)
                yield BrowserStack(stack, gw, middleware, site)
        finally:
            browser.stop()


def _key(gateway: ServiceProcess) -> str:
    response = httpx.post(
        f"{gateway.url}/key/generate",
        json={"metadata": {}},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["key"])


def _call(bs: BrowserStack, key: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{bs.middleware.url}/mcp/tools/call",
        json={"name": name, "arguments": arguments},
        headers={"Authorization": f"Bearer {key}"},
        timeout=90,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _text(result: dict[str, Any]) -> str:
    return "".join(str(part.get("text") or "") for part in result["content"])


def _screenshot(bs: BrowserStack, key: str) -> bytes:
    result = _call(bs, key, "browser_screenshot", {})
    assert not result["isError"], result
    (image,) = [part for part in result["content"] if part.get("url")]
    png = httpx.get(image["url"])
    assert png.status_code == 200
    return png.content


def test_two_keys_get_separate_browser_sessions(browser_stack: BrowserStack) -> None:
    bs = browser_stack
    key_a, key_b = _key(bs.gateway), _key(bs.gateway)
    state = f"http://localhost:{bs.site.port}/state.html"

    navigated = _call(bs, key_a, "browser_navigate", {"url": f"{state}?set=alpha"})
    assert not navigated["isError"], navigated
    assert "cookie=[k=alpha]" in _text(_call(bs, key_a, "browser_extract", {"selector": "#state"}))

    # B has its own tab: not on A's page, and A's screenshot is not B's.
    assert "alpha" not in _text(_call(bs, key_b, "browser_extract", {}))
    assert _screenshot(bs, key_b) != _screenshot(bs, key_a)

    # Same origin, no cookie for B.
    _call(bs, key_b, "browser_navigate", {"url": state})
    seen_by_b = _text(_call(bs, key_b, "browser_extract", {"selector": "#state"}))
    assert "cookie=[]" in seen_by_b and "storage=[]" in seen_by_b
    # A's session lives on across calls.
    assert "cookie=[k=alpha]" in _text(_call(bs, key_a, "browser_extract", {"selector": "#state"}))

    status = httpx.get(
        f"{bs.middleware.url}/mcp/tools/list", headers={"Authorization": f"Bearer {MASTER_KEY}"}
    ).json()
    (browser,) = status["servers"]
    assert browser["session"] == "per_user"
    assert browser["user_sessions"] >= 2


def _chat(bs: BrowserStack, key: str, token: str | None, content: str) -> None:
    headers = {"X-OpenWebUI-User-Jwt": token} if token else {}
    client = OpenAI(
        base_url=f"{bs.middleware.url}/v1",
        api_key=key,
        max_retries=0,
        timeout=90,
        default_headers=headers,
    )
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in reply if c.choices)


def _tool_results(bs: BrowserStack) -> list[str]:
    body = bs.stack.received(MODEL)[-1]
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def _spend_rows(bs: BrowserStack, key: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{bs.gateway.url}/spend/logs",
        params={"api_key": key, "summarize": "false"},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_open_webui_users_behind_one_key_get_own_sessions_and_spend(
    browser_stack: BrowserStack,
) -> None:
    bs = browser_stack
    key = _key(bs.gateway)  # the one key Open WebUI holds for everyone
    state = f"http://localhost:{bs.site.port}/state.html"
    bs.stack.script(
        MODEL,
        [
            {
                "tool_calls": [
                    {"name": "browser_navigate", "arguments": {"url": f"{state}?set=ana"}}
                ]
            },
            {"text": "Ana's page is open."},
            {"tool_calls": [{"name": "browser_navigate", "arguments": {"url": state}}]},
            {"tool_calls": [{"name": "browser_extract", "arguments": {"selector": "#state"}}]},
            {"text": "Bo sees no cookie."},
            {"tool_calls": [{"name": "browser_extract", "arguments": {"selector": "#state"}}]},
            {"text": "Ana still has hers."},
        ],
    )

    _chat(bs, key, _owui_token("user-ana"), "open my page")
    _chat(bs, key, _owui_token("user-bo"), "what do I see?")
    assert "cookie=[]" in _tool_results(bs)[-1]
    _chat(bs, key, _owui_token("user-ana"), "and me?")
    assert "cookie=[k=ana]" in _tool_results(bs)[-1]

    # The gateway was told who asked: `user` on every model call, spend per end user.
    users = [body.get("user") for body in bs.stack.received(MODEL)[-7:]]
    assert users == ["user-ana"] * 2 + ["user-bo"] * 3 + ["user-ana"] * 2
    deadline = time.monotonic() + 30
    spend: dict[str, float] = {}
    while time.monotonic() < deadline:
        spend = {}
        for row in _spend_rows(bs, key):
            spend[row["end_user"]] = spend.get(row["end_user"], 0.0) + float(row["spend"])
        if {"user-ana", "user-bo"} <= set(spend) and len(_spend_rows(bs, key)) >= 7:
            break
        time.sleep(0.1)
    assert spend.get("user-ana", 0) > 0 and spend.get("user-bo", 0) > 0, spend


@pytest.mark.parametrize(
    "token",
    [
        _owui_token("mallory", secret="not-the-shared-secret-at-all-0123456789"),
        jwt.encode(
            {"sub": "mallory", "iss": "open-webui", "exp": int(time.time()) + 300},
            key="",
            algorithm="none",
        ),
    ],
    ids=["forged", "unsigned"],
)
def test_a_forged_or_unsigned_open_webui_token_is_ignored_and_logged(
    browser_stack: BrowserStack, token: str
) -> None:
    bs = browser_stack
    key = _key(bs.gateway)
    bs.stack.script(MODEL, [{"text": "hello"}])
    before = _ignored_token_lines(bs)
    _chat(bs, key, token, "hi")

    assert "user" not in bs.stack.received(MODEL)[-1]
    # The middleware logs synchronously before it answers, so the line is there now.
    assert _ignored_token_lines(bs) == before + 1


def _ignored_token_lines(bs: BrowserStack) -> int:
    return sum(
        1
        for line in bs.middleware.log().splitlines()
        if line.startswith("{")
        and orjson.loads(line).get("event") == "open webui user token ignored"
    )


def test_the_user_session_cap_is_a_clear_tool_error(browser_stack: BrowserStack) -> None:
    # Last in this module: it fills the cap for the rest of the browser stack's life.
    bs = browser_stack
    results = [
        _call(bs, _key(bs.gateway), "browser_extract", {}) for _ in range(MAX_USER_SESSIONS + 1)
    ]
    refused = [r for r in results if r["isError"]]
    assert refused, results
    assert refused[-1]["outcome"] == "session_limit"
    assert f"already holds {MAX_USER_SESSIONS} user sessions" in _text(refused[-1])
