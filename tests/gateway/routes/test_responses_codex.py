"""The real Codex CLI (pinned, from npm) pointed straight at the gateway's `/v1/responses`, with
a model the gateway translates onto chat (`anthropic/`), under `drop_params: true` as LiteLLM
configs usually set it.

Codex sends the hosted `web_search` tool in every request and its sub-agent tools as a
`namespace`; before, the first made every request a 400 for translated models, and the second
was lost. Now `web_search` is left out, the namespace's tools are offered as
`multi_agent_v1__<name>`, and a call to one goes back to Codex with its namespace, so Codex
runs its own tool and the model gets the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.codex.codex_cli import ensure_codex, run_codex
from tests.gateway.providers.stack import MASTER_KEY, Stack, running_stack

MODEL = "anthropic-scripted"


@pytest.fixture(scope="module")
def stack(service_log_dir: Path) -> Iterator[Stack]:
    with running_stack(service_log_dir, drop_params=True) as running:
        yield running


@pytest.fixture(scope="module")
def codex_cli() -> Path:
    return ensure_codex()


def _script(stack: Stack, replies: list[dict[str, Any]]) -> None:
    httpx.delete(f"{stack.upstream.url}/__fake__/script", timeout=10).raise_for_status()
    stack.script("scripted", replies)


def _messages_requests(stack: Stack) -> list[dict[str, Any]]:
    entries = httpx.get(f"{stack.upstream.url}/__fake__/requests", timeout=10).json()["data"]
    return [
        e["body"]
        for e in entries
        if e["path"].endswith("/messages") and e["body"].get("model") == "scripted"
    ]


def test_codex_answers_through_a_translated_model(
    stack: Stack, codex_cli: Path, tmp_path: Path
) -> None:
    _script(stack, [{"text": "hello from the translated model"}])
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = run_codex(
        codex_cli,
        "Say hello.",
        base_url=f"{stack.gateway_url}/v1",
        key=MASTER_KEY,
        model=MODEL,
        workdir=workdir,
        home=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.last_message.strip() == "hello from the translated model"
    offered = {tool["name"] for tool in _messages_requests(stack)[-1]["tools"]}
    assert "exec_command" in offered
    assert "multi_agent_v1__wait_agent" in offered  # the namespace, flattened
    assert not any("web_search" in name for name in offered)  # hosted: left out


def test_codex_runs_a_namespaced_tool_the_model_called(
    stack: Stack, codex_cli: Path, tmp_path: Path
) -> None:
    call = {"name": "multi_agent_v1__wait_agent", "arguments": {"targets": []}}
    _script(stack, [{"tool_calls": [call]}, {"text": "the agents are accounted for"}])
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = run_codex(
        codex_cli,
        "Wait for the agents.",
        base_url=f"{stack.gateway_url}/v1",
        key=MASTER_KEY,
        model=MODEL,
        workdir=workdir,
        home=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "unsupported call" not in run.stderr  # Codex knew the tool by name and namespace
    assert run.last_message.strip() == "the agents are accounted for"
    last = _messages_requests(stack)[-1]
    blocks = [b for m in last["messages"] if isinstance(m["content"], list) for b in m["content"]]
    uses = [b for b in blocks if b["type"] == "tool_use"]
    results = [b for b in blocks if b["type"] == "tool_result"]
    # Codex sent its call back with the namespace, and the gateway named it for the model again.
    assert [u["name"] for u in uses] == ["multi_agent_v1__wait_agent"]
    assert [r["tool_use_id"] for r in results] == [uses[0]["id"]]
