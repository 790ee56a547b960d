"""A bare `claude-...` deployment with no `api_key`, through a real gateway process: the
gateway infers Anthropic from the name, takes ANTHROPIC_API_KEY from its environment, and
speaks the Messages API to the fake upstream, which checks `x-api-key`. The start-up log
names both decisions once, and never the key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.gateway.conftest import MASTER_KEY, UPSTREAM_KEY, start_gateway
from tests.support.processes import ServiceProcess

BARE_CLAUDE = "claude-3-5-sonnet-20241022"


@pytest.fixture(scope="module")
def gateway(
    fake_upstream: ServiceProcess, tmp_path_factory: pytest.TempPathFactory, service_log_dir: Path
) -> Iterator[ServiceProcess]:
    tmp = tmp_path_factory.mktemp("bare-names")
    config = {
        "model_list": [
            {
                "model_name": "claude",
                "litellm_params": {"model": BARE_CLAUDE, "api_base": fake_upstream.url},
            }
        ],
        "general_settings": {"master_key": MASTER_KEY, "proxy_batch_write_at": 0.2},
    }
    service = start_gateway(config, tmp, service_log_dir, env={"ANTHROPIC_API_KEY": UPSTREAM_KEY})
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def client(gateway: ServiceProcess) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0) as c:
        yield c


def _script(upstream: ServiceProcess, text: str) -> None:
    response = httpx.post(
        f"{upstream.url}/__fake__/script",
        json={"model": BARE_CLAUDE, "replies": [{"text": text}]},
        timeout=10,
    )
    response.raise_for_status()


def _last_request(upstream: ServiceProcess) -> dict[str, Any]:
    entries = httpx.get(f"{upstream.url}/__fake__/requests", timeout=10).json()["data"]
    mine = [e for e in entries if isinstance(e.get("body"), dict)]
    mine = [e for e in mine if e["body"].get("model") == BARE_CLAUDE]
    assert mine, "the fake upstream received nothing for the bare claude deployment"
    return dict(mine[-1])


def test_answers_through_the_anthropic_wire_format(
    client: OpenAI, fake_upstream: ServiceProcess
) -> None:
    _script(fake_upstream, "Hello from a bare claude.")
    reply = client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "hi"}], max_tokens=20
    )
    assert reply.choices[0].message.content == "Hello from a bare claude."
    sent = _last_request(fake_upstream)
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == UPSTREAM_KEY
    assert "authorization" not in sent["headers"]


def test_streams_through_the_anthropic_wire_format(
    client: OpenAI, fake_upstream: ServiceProcess
) -> None:
    _script(fake_upstream, "Streamed from a bare claude.")
    stream = client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "hi"}], max_tokens=20, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Streamed from a bare claude."
    assert _last_request(fake_upstream)["body"]["stream"] is True


def test_it_is_priced_as_the_anthropic_model(client: OpenAI, gateway: ServiceProcess) -> None:
    client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "price me"}], max_tokens=20
    )
    deadline = time.monotonic() + 20  # spend rows are written in batches off the request path
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not rows:
        response = httpx.get(
            f"{gateway.url}/spend/logs",
            params={"summarize": "false"},
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        rows = [r for r in response.json() if r["model_group"] == "claude"]
        if not rows:
            time.sleep(0.1)
    assert rows, "no spend row for the bare claude deployment after 20s"
    assert all(row["spend"] > 0 for row in rows)


def test_the_start_up_log_names_both_decisions_but_not_the_key(gateway: ServiceProcess) -> None:
    log = gateway.log()
    assert f"{BARE_CLAUDE} -> anthropic" in log
    assert "claude (anthropic): api_key from ANTHROPIC_API_KEY" in log
    assert UPSTREAM_KEY not in log
